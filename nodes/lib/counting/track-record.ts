/**
 * What the counter keeps per track: its line and zone states, its trajectory (anchor, size,
 * velocity), its confirmation and what it inherited over a re-link. Data and the small rules that
 * only read or move the track itself; the rules that decide live in line-crossing, zones and relink.
 */
import { Detection, Point } from '../types';
import { Direction } from './config';
import { LineCrossingState, newLineCrossingState } from './line-crossing';
import { ZoneState } from './zones';

/** A settled crossing not counted yet: its track is tentative, or it waits on a re-link check. */
export interface Pending {
  line: number;
  dir: Direction;
  tMs: number;
}

/**
 * A re-link's bridge: the predecessor's last anchor → this track's first. Crossings made on it are held
 * until this track has been seen `relinkCheckFrames` more frames: moving back against the bridge, it is
 * someone else who appeared nearby (they are dropped), otherwise the same object (they count).
 */
export interface Bridge {
  from: Point;
  to?: Point;
  /** This track has had its first own (whole-box) frame: the step to it from the predecessor's last anchor was the bridge. */
  stepped: boolean;
  /** Whole-box frames since the bridge, along a chain of re-linked tracks (the check's clock). */
  frames: number;
  held: Pending[];
  verdict?: 'along' | 'against';
}

export interface TrackRec {
  id: number;
  label: string;
  classId: number;
  firstSeenMs: number;
  lastSeenMs: number;
  confirmed: boolean;
  anchor: Point | undefined;
  /** Frame time of `anchor` (a partial box leaves both as they were). */
  anchorMs: number;
  boxH: number;
  /** Smoothed height of the track's whole boxes, against which a partial box is told (partialBoxRatio). */
  fullH: number;
  /** Anchor velocity in px/ms (smoothed), to predict where a lost track would be. */
  vel: Point;
  lines: LineCrossingState[];
  zones: ZoneState[];
  pending: Pending[];
  inheritedFrom?: number;
  /** Frames this track was seen, plus those of the re-linked tracks it inherited from. */
  hits: number;
  /** Already handed its state to a successor: a source is inherited at most once. */
  relinked: boolean;
  bridge?: Bridge;
}

/** Pending crossings of one tentative track are bounded: a tentative track lives a few frames. */
export const MAX_PENDING = 16;

/** The label a detection is counted under: its label, else its class id. */
export function labelOf(d: Detection): string {
  return d.label === undefined || d.label === null ? String(d.classId) : String(d.label);
}

/** A track seen for the first time (no anchor yet: its first step has nowhere to come from). */
export function newTrackRecord(id: number, d: Detection, tMs: number, boxH: number, lineCount: number, zones: ZoneState[]): TrackRec {
  return {
    id,
    label: labelOf(d),
    classId: d.classId,
    firstSeenMs: tMs,
    lastSeenMs: tMs,
    confirmed: false,
    anchor: undefined,
    anchorMs: tMs,
    boxH,
    fullH: boxH,
    vel: [0, 0],
    lines: Array.from({ length: lineCount }, newLineCrossingState),
    zones,
    pending: [],
    relinked: false,
    hits: 0,
  };
}

/** A whole box moves the track: smoothed velocity, then anchor, its time and the box height. */
export function moveAnchor(rec: TrackRec, anchor: Point, boxH: number, tMs: number): void {
  if (rec.anchor && tMs > rec.anchorMs) {
    const dt = tMs - rec.anchorMs;
    const vx = (anchor[0] - rec.anchor[0]) / dt;
    const vy = (anchor[1] - rec.anchor[1]) / dt;
    rec.vel = [0.5 * rec.vel[0] + 0.5 * vx, 0.5 * rec.vel[1] + 0.5 * vy];
  }
  rec.anchor = anchor;
  rec.anchorMs = tMs;
  rec.boxH = boxH;
}
