/**
 * vision-detect editor config and `topic: "config"` messages → filter and NMS options, with the shared
 * readers (nodes/shared/config). The engine (resolveFilters, validateNms) checks the ranges.
 */
import { blank, bool, list, number, optJson, optNumber } from '../shared/config';
import { FilterOptions, ResolvedFilters, resolveFilters } from '../lib/detect/filters';
import { NmsOptions, validateNms } from '../lib/detect/nms';
import { MotionGateOptions, resolveMotionOptions } from '../lib/detect/motion';

export interface DetectConfig {
  name?: string;
  model?: string;
  conf?: string | number;
  iou?: string | number;
  classes?: string;
  classConf?: string;
  minArea?: string | number;
  maxArea?: string | number;
  minAspect?: string | number;
  maxAspect?: string | number;
  include?: string;
  exclude?: string;
  anchor?: string;
  maxDetections?: string | number;
  classAgnostic?: boolean | string;
  imageQueue?: string | number;
  batchWait?: string | number;
  /** Motion-gated detection: frames with nothing moving since the last detection are not detected. */
  motionGate?: boolean | string;
  motionThreshold?: string | number;
  motionMinArea?: string | number;
  motionMaxSkipS?: string | number;
}

export interface DetectSettings {
  filters: ResolvedFilters;
  nms: Required<NmsOptions>;
  /** Images waiting per topic before one more is refused. */
  imageQueue: number;
  /** Longest wait for a batch to fill (ms); 0 = none. */
  batchWaitMs: number;
  /** Motion gating options, or null when it is off (the default). */
  motion: MotionGateOptions | null;
}

export const DEFAULT_IMAGE_QUEUE = 4;

/** 0 in the dialog = no upper limit. */
function noLimitAtZero(n: number | undefined): number | undefined {
  return n === 0 ? undefined : n;
}

/** Editor config → settings; throws with the field and what is wrong. */
export function readDetectConfig(c: DetectConfig): DetectSettings {
  const f: FilterOptions = {
    conf: optNumber(c.conf, 'score threshold'),
    classConf: optJson<Record<string, number>>(c.classConf, 'per-class thresholds'),
    classes: list(c.classes),
    minArea: optNumber(c.minArea, 'minimum area'),
    maxArea: optNumber(c.maxArea, 'maximum area'),
    minAspect: optNumber(c.minAspect, 'minimum aspect'),
    maxAspect: noLimitAtZero(optNumber(c.maxAspect, 'maximum aspect')),
    include: optJson(c.include, 'include polygons'),
    exclude: optJson(c.exclude, 'exclude polygons'),
    anchor: blank(c.anchor) ? undefined : (String(c.anchor) as FilterOptions['anchor']),
  };
  const nms = validateNms({
    iouThreshold: optNumber(c.iou, 'NMS IoU'),
    maxDetections: optNumber(c.maxDetections, 'maximum detections'),
    classAgnostic: bool(c.classAgnostic, 'class-agnostic NMS', false),
  });
  const filters = resolveFilters(f);
  const motion = bool(c.motionGate, 'motion-gated detection', false)
    ? resolveMotionOptions({
        threshold: optNumber(c.motionThreshold, 'motion threshold'),
        minArea: optNumber(c.motionMinArea, 'motion area'),
        maxSkipS: optNumber(c.motionMaxSkipS, 'detect at least every'),
      })
    : null;
  return {
    filters,
    nms,
    imageQueue: number(c.imageQueue, 'images waiting per topic', DEFAULT_IMAGE_QUEUE, { integer: true, min: 1, max: 64 }),
    batchWaitMs: number(c.batchWait, 'batch wait', 0, { min: 0, max: 1000 }),
    motion,
  };
}

/** A config message's patch (its `reset` already taken out): filter options for the engine to check. */
export function readDetectPatch(patch: unknown): FilterOptions {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new Error('a config message needs msg.payload as an object, e.g. {"conf": 0.5, "classes": ["person"]}');
  }
  return patch as FilterOptions;
}
