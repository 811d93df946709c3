/** The engine's options: one flat object, so the same keys work in the editor and in config messages. */
import { Anchor } from '../geometry';
import { parseShifts } from './shift';
import { StationZone, parseStations } from './stations';

export type ActivitySource = 'motion' | 'presence' | 'external' | 'either' | 'both';

export interface ProductivityOptions {
  stations: StationZone[];
  /** Detections below this score are not presence. */
  minConfidence: number;
  /** Detection labels that count as workers. */
  labels: string[];
  /** Only tracks the tracker has confirmed count (drops one-frame false positives). */
  requireConfirmed: boolean;
  anchor: Anchor;
  presenceOnMs: number;
  presenceOffMs: number;
  idleDelayMs: number;
  absenceTimeoutMs: number;
  /** Where "active" comes from: motion in the box, mere presence, the external signal, or a mix. */
  activitySource: ActivitySource;
  /** Smoothed fraction of changed pixels in the box above which a worker is active. */
  activityThreshold: number;
  motionStep: number;
  motionPixelThreshold: number;
  /** Time constant of the activity smoothing. */
  motionTauMs: number;
  /** Frames further apart than this are not differenced (no reading). */
  maxFrameGapMs: number;
  /** Daily shift starts, e.g. "early=06:00,late=14:00,night=22:00"; empty = one shift per day. */
  shifts: string;
  /** Time zone of the shift times: minutes east of UTC, or 'local' for the gateway's zone (as line-count). */
  utcOffsetMin: number | 'local';
  /** Rolling window for the second set of KPIs. */
  windowMs: number;
  /** KPI reports every this much event time (and at each state change); 0 = state changes only. */
  kpiIntervalMs: number;
  /** A line-count crossing on this line counts as one unit for unitsStation. */
  unitsLine: string;
  /** Station credited with units from unitsLine, and with `units` messages that name no station. */
  unitsStation: string;
  healthWindowMs: number;
  driftThreshold: number;
  driftSustainMs: number;
  /** Bound on per-worker records kept for the KPIs of the open periods. */
  maxWorkers: number;
}

export const DEFAULT_OPTIONS: ProductivityOptions = {
  stations: [],
  minConfidence: 0.7,
  labels: ['person'],
  requireConfirmed: true,
  anchor: 'bottom-center',
  presenceOnMs: 1000,
  presenceOffMs: 2000,
  idleDelayMs: 30000,
  absenceTimeoutMs: 300000,
  activitySource: 'motion',
  activityThreshold: 0.02,
  motionStep: 4,
  motionPixelThreshold: 25,
  motionTauMs: 1000,
  maxFrameGapMs: 2000,
  shifts: '',
  utcOffsetMin: 'local',
  windowMs: 3600000,
  kpiIntervalMs: 60000,
  unitsLine: '',
  unitsStation: '',
  healthWindowMs: 60000,
  driftThreshold: 0.5,
  driftSustainMs: 600000,
  maxWorkers: 1000,
};

const SOURCES: ActivitySource[] = ['motion', 'presence', 'external', 'either', 'both'];
const ANCHORS: Anchor[] = ['bottom-center', 'center', 'top-center'];

/** Merges `patch` over `base` and validates the result; errors name the key and the bad value. */
export function resolveOptions(patch: Partial<Record<keyof ProductivityOptions, unknown>>, base: ProductivityOptions = DEFAULT_OPTIONS): ProductivityOptions {
  const o = { ...base } as ProductivityOptions;
  for (const k of Object.keys(patch) as (keyof ProductivityOptions)[]) {
    if (!(k in DEFAULT_OPTIONS)) throw new Error(`unknown option "${k}"`);
    const v = patch[k];
    if (v === undefined) continue;
    (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (patch.stations !== undefined) o.stations = parseStations(patch.stations);
  const num = (k: keyof ProductivityOptions, min: number, max = Infinity) => {
    const v = o[k] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new Error(`${k} must be a number within ${min}..${max === Infinity ? '∞' : max}, got ${JSON.stringify(v)}`);
    }
  };
  num('minConfidence', 0, 1);
  num('presenceOnMs', 0);
  num('presenceOffMs', 0);
  num('idleDelayMs', 0);
  num('absenceTimeoutMs', 0);
  num('activityThreshold', 0, 1);
  num('motionStep', 1, 64);
  num('motionPixelThreshold', 0, 255);
  num('motionTauMs', 0);
  num('maxFrameGapMs', 0);
  if (o.utcOffsetMin !== 'local') num('utcOffsetMin', -840, 840);
  num('windowMs', 1000);
  num('kpiIntervalMs', 0);
  num('healthWindowMs', 1000);
  num('driftThreshold', 0, 1);
  num('driftSustainMs', 0);
  num('maxWorkers', 1);
  if (!SOURCES.includes(o.activitySource)) throw new Error(`activitySource must be one of ${SOURCES.join(', ')}, got ${JSON.stringify(o.activitySource)}`);
  if (!ANCHORS.includes(o.anchor)) throw new Error(`anchor must be one of ${ANCHORS.join(', ')}, got ${JSON.stringify(o.anchor)}`);
  if (!Array.isArray(o.labels) || !o.labels.every((l) => typeof l === 'string')) throw new Error('labels must be an array of strings');
  if (typeof o.requireConfirmed !== 'boolean') throw new Error(`requireConfirmed must be true or false, got ${JSON.stringify(o.requireConfirmed)}`);
  parseShifts(o.shifts);
  if (typeof o.unitsLine !== 'string' || typeof o.unitsStation !== 'string') throw new Error('unitsLine and unitsStation must be strings');
  if (o.unitsStation && !o.stations.some((s) => s.name === o.unitsStation)) throw new Error(`unitsStation "${o.unitsStation}" is not one of the stations`);
  return o;
}
