/**
 * vision-reid editor config → engine options, with the shared readers (nodes/shared/config). The
 * engine (resolveReidOptions) checks the ranges and names the option that is wrong.
 */
import { blank, bool, choice, configError, maxDetections, number, optJson, optNumber } from '../shared/config';
import { checkTopicRoot } from '../lib/reid/exchange';
import { CameraCalibration, EMBEDDER_DEFAULTS, ReidOptionsInput, TransitionWindow, resolveReidOptions } from '../lib/reid/engine';

export interface ReidConfig {
  name?: string;
  embedder?: string;
  model?: string;
  sampleEvery?: string | number;
  minSamples?: string | number;
  threshold?: string | number;
  margin?: string | number;
  trackTimeoutS?: string | number;
  galleryTtlS?: string | number;
  galleryCapacity?: string | number;
  minHeight?: string | number;
  maxOverlap?: string | number;
  edgeMargin?: string | number;
  transitions?: string;
  calibrations?: string;
  maxSpeed?: string | number;
  unlisted?: string;
  /** Target false-join rate in percent for the learnt threshold (blank: 1 %). */
  falseJoinPct?: string | number;
  /** Match live tracks of overlapping cameras: "auto" or "off". */
  overlap?: string;
  embedUntracked?: boolean | string;
  outputEmbeddings?: boolean | string;
  maxDetections?: string | number;
}

export type EmbedderKind = 'onnx' | 'colour';

export interface ReidSettings {
  /** Engine options (over the embedder's defaults). */
  options: ReidOptionsInput;
  /** Embed detections without a trackId too (off: after vision-track, untracked boxes would be embedded for nothing). */
  embedUntracked: boolean;
  /** Put the embeddings on the detections that leave. */
  outputEmbeddings: boolean;
  maxDetections: number;
}

/** Which embedder the node uses: an ONNX re-id model through a vision-model node, or the built-in colour descriptor. */
export function embedderOf(c: ReidConfig): EmbedderKind {
  return choice(c.embedder, 'embedder', ['colour', 'model'] as const, 'colour') === 'model' ? 'onnx' : 'colour';
}

/** Editor config → settings; throws with the field and what is wrong. */
export function readReidConfig(c: ReidConfig, kind: EmbedderKind): ReidSettings {
  const cap = maxDetections(c.maxDetections);
  return {
    options: parseReidConfig(c, kind),
    embedUntracked: bool(c.embedUntracked, 'embed untracked', false),
    outputEmbeddings: bool(c.outputEmbeddings, 'output embeddings', true),
    maxDetections: cap,
  };
}

/** Editor config → engine options (validated by the engine, which names what is wrong). */
export function parseReidConfig(c: ReidConfig, kind: EmbedderKind): ReidOptionsInput {
  const o: ReidOptionsInput = { ...EMBEDDER_DEFAULTS[kind] };
  const set = (k: keyof ReidOptionsInput, v: unknown) => {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  };
  set('sampleEvery', optNumber(c.sampleEvery, 'sample every'));
  set('minSamples', optNumber(c.minSamples, 'samples before matching'));
  // A threshold typed in is a fixed override: the calibration still learns (the status and the admin
  // route show it) but does not move the threshold.
  const fixed = optNumber(c.threshold, 'match threshold');
  set('threshold', fixed);
  if (fixed !== undefined) o.calibrate = 'off';
  const pct = optNumber(c.falseJoinPct, 'false joins', { min: 0.01, max: 50 });
  set('targetFalseJoinRate', pct === undefined ? undefined : pct / 100);
  if (!blank(c.overlap)) set('overlap', choice(c.overlap, 'overlapping cameras', ['auto', 'off'] as const, 'auto'));
  set('margin', optNumber(c.margin, 'margin'));
  const timeout = optNumber(c.trackTimeoutS, 'track timeout');
  set('trackTimeoutMs', timeout === undefined ? undefined : timeout * 1000);
  const ttl = optNumber(c.galleryTtlS, 'gallery time-to-live');
  set('galleryTtlMs', ttl === undefined ? undefined : ttl * 1000);
  set('galleryCapacity', optNumber(c.galleryCapacity, 'gallery size'));
  set('maxSpeed', optNumber(c.maxSpeed, 'walking speed'));
  if (!blank(c.unlisted)) set('unlistedTransitions', c.unlisted);
  const quality: Record<string, number> = {};
  for (const [k, label] of [
    ['minHeight', 'minimum height'],
    ['maxOverlap', 'maximum overlap'],
    ['edgeMargin', 'edge margin'],
  ] as const) {
    const v = optNumber(c[k], label);
    if (v !== undefined) quality[k] = v;
  }
  if (Object.keys(quality).length) o.quality = quality;
  set('transitions', optJson<TransitionWindow[]>(c.transitions, 'camera transitions'));
  set('calibrations', optJson<Record<string, CameraCalibration>>(c.calibrations, 'floor calibration'));
  resolveReidOptions(o);
  return o;
}

/** The fields of the *Share identities over MQTT* section (nodes/reid/share.ts). */
export interface ReidShareConfig {
  share?: boolean | string;
  broker?: string;
  gateway?: string;
  topicRoot?: string;
  shareQueue?: string | number;
  /** Seconds between live-track updates (blank: 1; 0: live tracks are not shared). */
  shareLiveS?: string | number;
  /** A core tls-config node's id. */
  mqttTls?: string;
}

export interface ReidShareSettings {
  broker: string;
  gateway: string;
  root: string;
  queueSize: number;
  /** ms between a live track's updates; 0: only ended tracks are shared. */
  liveEveryMs: number;
  tlsNode?: string;
}

/** The topic root when none is given. */
export const DEFAULT_TOPIC_ROOT = 'edgevision/reid';

/** Share fields → settings, or undefined when sharing is off; throws with the field and what is wrong. */
export function readShareConfig(c: ReidShareConfig): ReidShareSettings | undefined {
  if (!bool(c.share, 'share identities over MQTT', false)) return undefined;
  const broker = blank(c.broker) ? '' : String(c.broker).trim();
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/i.test(broker)) throw configError('broker', 'an mqtt://, mqtts://, ws:// or wss:// URL', c.broker ?? '');
  const gateway = blank(c.gateway) ? '' : String(c.gateway).trim();
  if (!/^[\w.-]{1,64}$/.test(gateway)) throw configError('gateway id', '1–64 letters, digits, "_", "-" or "." (unique in the plant)', c.gateway ?? '');
  const root = blank(c.topicRoot) ? DEFAULT_TOPIC_ROOT : String(c.topicRoot).trim();
  try {
    checkTopicRoot(root);
  } catch (e) {
    throw configError('topic root', (e as Error).message.replace(/^topic root /, 'a topic without wildcards: '), root);
  }
  const queueSize = number(c.shareQueue, 'queue while offline', 1000, { integer: true, min: 1, max: 100000 });
  const liveS = number(c.shareLiveS, 'live updates every', 1, { min: 0, max: 60 });
  return { broker, gateway, root, queueSize, liveEveryMs: Math.round(liveS * 1000), ...(blank(c.mqttTls) ? {} : { tlsNode: String(c.mqttTls) }) };
}
