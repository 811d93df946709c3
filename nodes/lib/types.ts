/**
 * The message contract shared by every stage (../../DESIGN.md, "The message contract").
 * Everything here is plain JSON-serialisable data: no class instances, no pixel buffers.
 */

/** Axis-aligned box in source-frame pixels: [x1, y1, x2, y2]. The one box convention everywhere. */
export type Box = [number, number, number, number];

/** A point [x, y]; in user geometry (lines, zones) it is normalised 0..1, elsewhere pixels. */
export type Point = [number, number];

/** Pixel layouts the frame store holds. Interleaved 8-bit, row-major, no padding. */
export type PixelFormat = 'rgb24' | 'bgr24' | 'gray8';

/** A reference to pixels held in the frame store; this is what rides on a message instead of the pixels. */
export interface FrameRef {
  camera: string;
  /** Per-camera sequence number, strictly increasing from 0 for the life of the store. */
  seq: number;
  /** Frame time in ms: wall clock (epoch ms) for live sources, media time for files. */
  tMs: number;
  width: number;
  height: number;
  format: PixelFormat;
}

/** A frame as the store hands it out: the reference plus its pixels. Never put this on a message. */
export interface Frame {
  ref: FrameRef;
  data: Uint8Array;
}

export type TrackState = 'tentative' | 'confirmed' | 'lost';

/** One detected object. detect fills box/score/classId/label; track, reid and later stages add the rest. */
export interface Detection {
  box: Box;
  score: number;
  classId: number;
  label: string;
  /** Set by vision-track: id unique within that camera's tracker instance. */
  trackId?: number;
  trackState?: TrackState;
  /** Box-centre velocity in pixels per second (from the tracker's Kalman state). */
  velocity?: Point;
  /** ms since the track was first seen. */
  ageMs?: number;
  /** Set by vision-reid: identity shared across cameras. */
  globalId?: string;
  /** Set by vision-reid while the track's globalId is provisional (too few good crops to match yet). */
  provisional?: boolean;
  /** Appearance embedding (L2-normalised) when reid computed one for this frame. */
  embedding?: number[];
  /** Set by vision-track on a frame the detector skipped (no motion): the box is the track's prediction. */
  predicted?: boolean;
}

/**
 * `VisionFrame.motion`, set by vision-detect when motion gating is on: `skipped` frames were not
 * detected (nothing moved since the last detection); vision-track carries its tracks through them.
 */
export interface MotionInfo {
  skipped: boolean;
  /** Share of the motion thumbnail that changed since the last detected frame (0..1). */
  changed: number;
  reason: 'first' | 'motion' | 'max-skip' | 'confirm' | 'still';
}

/** msg.payload of the pipeline: one vision frame, enriched by each stage. msg.topic = camera. */
export interface VisionFrame {
  camera: string;
  frame: FrameRef;
  detections: Detection[];
  /** Per-stage timings in ms, e.g. { inferenceMs: 12.3 }. */
  timing?: Record<string, number>;
  [stage: string]: unknown;
}

/** An InfluxDB point in the shape node-red-contrib-influxdb's batch node accepts. */
export interface InfluxPoint {
  measurement: string;
  tags?: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** epoch ms (or a Date); the writer converts to the configured precision. */
  timestamp?: number | Date;
}

/** An event that leaves on a node's second output, one message per event. */
export interface VisionEvent {
  /** e.g. 'line-crossing', 'zone-enter', 'track-start', 'state-change', 'drift-warning'. */
  event: string;
  camera: string;
  /** Event time in ms (the frame's time), not the time it was handled. */
  tMs: number;
  [key: string]: unknown;
}
