'use strict';
// Table-driven tests of every line-crossing rule (issue 5, "Must show"): each row is a scripted
// scene (feet positions per frame, normalised 0..1, on a 1000×1000 frame) and the counts it must
// give. Boxes are 40×100 px, so the default dead band (0.05 box heights) is 5 px = 0.005.
const assert = require('assert');
const { Counter } = require('../../dist/nodes/lib/counting');
/** @typedef {import('../../dist/nodes/lib/types').Box} Box */
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */

const W = 1000;
const H = 1000;
const DT = 40; // ms per frame (25 fps)

/**
 * A box whose bottom-centre (feet) is at normalised (fx, fy), 100 px tall.
 * @returns {Box}
 */
function box(fx, fy, h = 100) {
  return [fx * W - 20, fy * H - h, fx * W + 20, fy * H];
}

/**
 * @param {Partial<Detection> & { big?: boolean }} [extra]
 * @returns {Detection}
 */
function det(id, fx, fy, extra = {}) {
  const { big, ...rest } = extra;
  return { score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed', ...rest, box: box(fx, fy, big ? 200 : 100) };
}

/** n frames moving one track linearly from (x0,y0) to (x1,y1), inclusive. */
function walk(id, [x0, y0], [x1, y1], n, extra) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const f = n === 1 ? 1 : i / (n - 1);
    out.push([det(id, x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, extra)]);
  }
  return out;
}

/** Concatenate scenes frame by frame (frames of parallel scenes are merged). */
function seq(...parts) {
  return [].concat(...parts);
}
function together(a, b) {
  const n = Math.max(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) out.push([...(a[i] || []), ...(b[i] || [])]);
  return out;
}
/** n frames of one track whose feet are at (fx, fy) but whose box shows only its top `h` px (legs hidden). */
function legsHidden(id, fx, fy, n, h = 60) {
  const top = fy * H - 100;
  return Array.from({ length: n }, () => [
    { score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed', box: [fx * W - 20, top, fx * W + 20, top + h] },
  ]);
}
/** A walk from (x, y0) to (x, y1) over n frames whose boxes show only their top `h` px. */
function walkLegsHidden(id, x, y0, y1, n, h = 60) {
  return Array.from({ length: n }, (_, i) => legsHidden(id, x, y0 + ((y1 - y0) * i) / Math.max(1, n - 1), 1, h)[0]);
}
function gap(n) {
  return Array.from({ length: n }, () => []);
}

function play(geometry, options, frames, dtMs = DT) {
  const c = new Counter(geometry, options);
  const events = [];
  let last;
  frames.forEach((dets, i) => {
    last = c.update(dets, i * dtMs, W, H);
    events.push(...last.events);
  });
  return { counter: c, counts: c.counts(), events, last };
}

const HLINE = { lines: [{ name: 'door', start: [0.2, 0.5], end: [0.8, 0.5] }] };
const line = (extra) => ({ lines: [{ name: 'door', start: [0.2, 0.5], end: [0.8, 0.5], ...extra }] });

// Jitter: the feet oscillate around the line every frame.
function jitter(id, x, amp, n) {
  return Array.from({ length: n }, (_, i) => [det(id, x, 0.5 + (i % 2 ? amp : -amp))]);
}
// Standing on the line: slow wobble, a few frames each side, small amplitude (box-edge noise).
function wobble(id, x, amp, n, period = 3) {
  return Array.from({ length: n }, (_, i) => [det(id, x, 0.5 + (Math.floor(i / period) % 2 ? amp : -amp))]);
}

const cases = [
  // A straight pass: the basic count and the direction convention (line drawn left to right: down = in).
  { name: 'straight pass down is in', geometry: HLINE, frames: walk(1, [0.5, 0.3], [0.5, 0.7], 20), expect: { door: { in: 1, out: 0 } } },
  { name: 'straight pass up is out', geometry: HLINE, frames: walk(1, [0.5, 0.7], [0.5, 0.3], 20), expect: { door: { in: 0, out: 1 } } },
  {
    name: 'reversed line: down is out',
    geometry: { lines: [{ name: 'door', start: [0.8, 0.5], end: [0.2, 0.5] }] },
    frames: walk(1, [0.5, 0.3], [0.5, 0.7], 20),
    expect: { door: { in: 0, out: 1 } },
  },
  { name: 'diagonal pass through the segment', geometry: HLINE, frames: walk(1, [0.3, 0.2], [0.7, 0.8], 15), expect: { door: { in: 1, out: 0 } } },
  // Finite segment: walking past the end of the line changes sides of its extension, not a crossing.
  { name: 'pass beside the finite segment', geometry: HLINE, frames: walk(1, [0.9, 0.3], [0.9, 0.7], 20), expect: { door: { in: 0, out: 0 } } },
  {
    name: 'pass beside, then back through the segment',
    geometry: HLINE,
    frames: seq(walk(1, [0.9, 0.3], [0.9, 0.7], 10), walk(1, [0.9, 0.7], [0.5, 0.7], 10), walk(1, [0.5, 0.7], [0.5, 0.3], 10)),
    expect: { door: { in: 0, out: 1 } },
  },
  {
    name: 'infinite line (segment edge to edge) counts the same walk',
    geometry: { lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }] },
    frames: walk(1, [0.9, 0.3], [0.9, 0.7], 20),
    expect: { door: { in: 1, out: 0 } },
  },
  // Jitter on the line: small (inside the dead band) and large (alternating every frame, never 2 frames on one side).
  {
    name: 'jitter inside the dead band',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.49], 10), jitter(1, 0.5, 0.003, 40), walk(1, [0.5, 0.49], [0.5, 0.3], 10)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'jitter across the band, one frame each side',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.49], 10), jitter(1, 0.5, 0.02, 40), walk(1, [0.5, 0.47], [0.5, 0.3], 10)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'jitter without hysteresis counts (the failure it prevents)',
    geometry: HLINE,
    options: { minFrames: 1, minDistance: 0, cooldownS: 0, mode: 'every' },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.49], 10), jitter(1, 0.5, 0.003, 10)),
    expect: { door: { in: 5, out: 4 } },
  },
  // A stop on the line: standing with the feet on it, slow wobble, then walking on: exactly one count.
  {
    name: 'stop on the line, then walk on',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.5], 10), wobble(1, 0.5, 0.004, 60), walk(1, [0.5, 0.5], [0.5, 0.7], 10)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'stop on the line, then turn back',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.5], 10), wobble(1, 0.5, 0.004, 60), walk(1, [0.5, 0.5], [0.5, 0.3], 10)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'stop on the line without the dead band counts the wobble',
    geometry: HLINE,
    options: { minDistance: 0, cooldownS: 0 },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.5], 10), wobble(1, 0.5, 0.004, 60)),
    expect: { door: { in: 1, out: 1 } },
  },
  // An id switch at the line: the tracker loses id 1 at the line and starts id 2 just past it.
  {
    name: 'legs hidden just past the line: the short box does not carry the feet across it',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.7], [0.5, 0.53], 10), legsHidden(1, 0.5, 0.53, 5), walk(1, [0.5, 0.53], [0.5, 0.7], 10)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'same scene, partialBoxRatio 0: the hidden legs count an out (the failure it prevents)',
    geometry: HLINE,
    options: { partialBoxRatio: 0 },
    frames: seq(walk(1, [0.5, 0.7], [0.5, 0.53], 10), legsHidden(1, 0.5, 0.53, 5), walk(1, [0.5, 0.53], [0.5, 0.7], 10)),
    expect: { door: { in: 0, out: 1 } },
  },
  {
    name: 'a crossing made while the legs are hidden counts once the whole box is back',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.45], 8), walkLegsHidden(1, 0.5, 0.47, 0.55, 5), walk(1, [0.5, 0.56], [0.5, 0.7], 8)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'a person walking away shrinks slowly: every box is whole, the crossing counts',
    geometry: HLINE,
    frames: Array.from({ length: 20 }, (_, i) => [
      { score: 0.9, classId: 0, label: 'person', trackId: 1, trackState: 'confirmed', box: [480, 300 + 20 * i - (100 - 2 * i), 520, 300 + 20 * i] },
    ]),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'id switch at the line counts once',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.497], 10), walk(2, [0.5, 0.503], [0.5, 0.7], 10)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'id switch at the line, re-link off: the crossing is lost',
    geometry: HLINE,
    options: { relinkS: 0 },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.497], 10), walk(2, [0.5, 0.503], [0.5, 0.7], 10)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'id switch after the count, then back and forth: not a second in',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.56], 10), gap(3), walk(2, [0.5, 0.57], [0.5, 0.4], 60), walk(2, [0.5, 0.4], [0.5, 0.7], 30)),
    expect: { door: { in: 1, out: 1 } },
  },
  {
    name: 'same scene, re-link off: the switch double counts',
    geometry: HLINE,
    options: { relinkS: 0 },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.56], 10), gap(3), walk(2, [0.5, 0.57], [0.5, 0.4], 60), walk(2, [0.5, 0.4], [0.5, 0.7], 30)),
    expect: { door: { in: 2, out: 1 } },
  },
  {
    name: 'a new track far from the lost one does not inherit',
    geometry: HLINE,
    frames: seq(walk(1, [0.3, 0.3], [0.3, 0.56], 10), walk(2, [0.7, 0.57], [0.7, 0.4], 30), walk(2, [0.7, 0.4], [0.7, 0.7], 30)),
    expect: { door: { in: 2, out: 1 } },
  },
  {
    name: 'a new track of a different size (someone nearer) does not inherit',
    geometry: HLINE,
    frames: seq(
      walk(1, [0.5, 0.3], [0.5, 0.56], 10),
      gap(3),
      walk(2, [0.5, 0.57], [0.5, 0.4], 60, { box: undefined, big: true }),
      walk(2, [0.5, 0.4], [0.5, 0.7], 30, { big: true }),
    ),
    expect: { door: { in: 2, out: 1 } },
  },
  // Re-link check: the step from a lost track's last point to its successor's first (the bridge)
  // crosses a line; it counts only if the successor does not then move back against it.
  {
    name: 'someone else appears just past the line where a track was lost and walks back: the bridge counts nothing',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.47], 10), walk(2, [0.5, 0.53], [0.5, 0.3], 20)),
    expect: { door: { in: 0, out: 1 } },
  },
  {
    name: 'same scene, relinkCheckFrames 0: the bridge counts an in nobody made, and its cooldown drops the real out',
    geometry: HLINE,
    options: { relinkCheckFrames: 0 },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.47], 10), walk(2, [0.5, 0.53], [0.5, 0.3], 20)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'an id switch at the line whose new track then stands still counts once',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.497], 10), walk(2, [0.5, 0.52], [0.5, 0.52], 20)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'an id switch at the line whose new track ends before the check counts once',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.497], 10), walk(2, [0.5, 0.52], [0.5, 0.54], 3), gap(60)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'a new track after the re-link window does not inherit',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.56], 10), gap(40), walk(2, [0.5, 0.57], [0.5, 0.4], 60), walk(2, [0.5, 0.4], [0.5, 0.7], 30)),
    expect: { door: { in: 2, out: 1 } },
  },
  // Stand-in: the tracker hands a hidden person's lost track to someone nearer (a taller box) who walked
  // in front of them; the hidden person comes back, past the line, as a new track.
  {
    name: 'a lost track re-found on a nearer person leaves a stand-in: the hidden person, back past the line, counts',
    geometry: HLINE,
    frames: seq(
      walk(1, [0.5, 0.3], [0.5, 0.45], 10),
      gap(15),
      together(walk(1, [0.5, 0.42], [0.4, 0.42], 20, { big: true }), seq(gap(2), walk(2, [0.5, 0.56], [0.5, 0.7], 18))),
    ),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'a lost track re-found on a box of its own size leaves none: a newcomer past the line starts afresh',
    geometry: HLINE,
    frames: seq(
      walk(1, [0.5, 0.3], [0.5, 0.45], 10),
      gap(15),
      together(walk(1, [0.5, 0.45], [0.4, 0.45], 20), seq(gap(2), walk(2, [0.5, 0.56], [0.5, 0.7], 18))),
    ),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'a lost track re-found on a nearer person after a short gap leaves none',
    geometry: HLINE,
    frames: seq(
      walk(1, [0.5, 0.3], [0.5, 0.45], 10),
      gap(5),
      together(walk(1, [0.5, 0.42], [0.4, 0.42], 20, { big: true }), seq(gap(2), walk(2, [0.5, 0.56], [0.5, 0.7], 18))),
    ),
    expect: { door: { in: 0, out: 0 } },
  },
  // Direction limits.
  {
    name: 'in-only line ignores out',
    geometry: line({ directions: 'in' }),
    frames: seq(walk(1, [0.4, 0.3], [0.4, 0.7], 10), walk(2, [0.6, 0.7], [0.6, 0.3], 10)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'out-only line ignores in',
    geometry: line({ directions: 'out' }),
    frames: seq(walk(1, [0.4, 0.3], [0.4, 0.7], 10), walk(2, [0.6, 0.7], [0.6, 0.3], 10)),
    expect: { door: { in: 0, out: 1 } },
  },
  // Once per track, line and direction (default) vs. every crossing.
  {
    name: 'once: back and forth counts one in and one out',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.7], 30), walk(1, [0.5, 0.7], [0.5, 0.3], 30), walk(1, [0.5, 0.3], [0.5, 0.7], 30)),
    expect: { door: { in: 1, out: 1 } },
  },
  {
    name: 'every: back and forth counts each crossing',
    geometry: HLINE,
    options: { mode: 'every' },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.7], 30), walk(1, [0.5, 0.7], [0.5, 0.3], 30), walk(1, [0.5, 0.3], [0.5, 0.7], 30)),
    expect: { door: { in: 2, out: 1 } },
  },
  // Cooldown per track and line: a quick step back over the line right after a count is not counted.
  {
    name: 'cooldown suppresses a quick back-and-forth',
    geometry: HLINE,
    options: { mode: 'every' },
    frames: seq(walk(1, [0.5, 0.45], [0.5, 0.55], 4), walk(1, [0.5, 0.55], [0.5, 0.45], 4), walk(1, [0.5, 0.45], [0.5, 0.55], 4)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'cooldown 0 counts the same quick back-and-forth',
    geometry: HLINE,
    options: { mode: 'every', cooldownS: 0 },
    frames: seq(walk(1, [0.5, 0.45], [0.5, 0.55], 4), walk(1, [0.5, 0.55], [0.5, 0.45], 4), walk(1, [0.5, 0.45], [0.5, 0.55], 4)),
    expect: { door: { in: 2, out: 1 } },
  },
  {
    name: 'cooldown is per line',
    geometry: {
      lines: [
        { name: 'door', start: [0.2, 0.5], end: [0.8, 0.5] },
        { name: 'gate', start: [0.2, 0.52], end: [0.8, 0.52] },
      ],
    },
    frames: walk(1, [0.5, 0.4], [0.5, 0.65], 6),
    expect: { door: { in: 1, out: 0 }, gate: { in: 1, out: 0 } },
  },
  // Class limits, by label or by class id.
  {
    name: 'class limit by label',
    geometry: line({ classes: ['person'] }),
    frames: seq(walk(1, [0.4, 0.3], [0.4, 0.7], 10, { label: 'car', classId: 2 }), walk(2, [0.6, 0.3], [0.6, 0.7], 10)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'class limit by id',
    geometry: line({ classes: [2] }),
    frames: seq(walk(1, [0.4, 0.3], [0.4, 0.7], 10, { label: 'car', classId: 2 }), walk(2, [0.6, 0.3], [0.6, 0.7], 10)),
    expect: { door: { in: 1, out: 0 } },
  },
  // Only confirmed tracks count; a tentative track's crossing waits for its confirmation.
  {
    name: 'a tentative track that dies never counts',
    geometry: HLINE,
    frames: walk(1, [0.5, 0.3], [0.5, 0.7], 10, { trackState: 'tentative' }),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'a crossing made while tentative counts on confirmation',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.45], [0.5, 0.6], 5, { trackState: 'tentative' }), walk(1, [0.5, 0.62], [0.5, 0.7], 5)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'confirmedOnly off counts tentative tracks',
    geometry: HLINE,
    options: { confirmedOnly: false },
    frames: walk(1, [0.5, 0.3], [0.5, 0.7], 10, { trackState: 'tentative' }),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'lost-state detections (predictions) are ignored',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.45], 5), walk(1, [0.5, 0.5], [0.5, 0.7], 5, { trackState: 'lost' })),
    expect: { door: { in: 0, out: 0 } },
  },
  // A track that ends just past the line (walks out of view, or out of the clip) before its hysteresis frames.
  {
    name: 'a track ending past the dead band before minFrames is completed',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.52], 12), gap(60)),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'completeAtEnd off: that crossing is lost',
    geometry: HLINE,
    options: { completeAtEnd: false },
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.52], 12), gap(60)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'a track ending inside the dead band is not completed',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.503], 12), gap(60)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'a tentative track ending past the line is not completed',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.52], 12, { trackState: 'tentative' }), gap(60)),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'a track that handed its state to a re-linked successor is completed once, by the successor',
    geometry: HLINE,
    frames: seq(walk(1, [0.5, 0.3], [0.5, 0.52], 12), walk(2, [0.5, 0.54], [0.5, 0.7], 10), gap(60)),
    expect: { door: { in: 1, out: 0 } },
  },
  // A chain of one-frame tentative tracks, each re-linked to the last: a fast mover the tracker could not confirm.
  {
    name: 'a re-linked chain of tentative tracks counts once it has chainConfirmHits frames',
    geometry: HLINE,
    frames: Array.from({ length: 10 }, (_, i) => [det(i + 1, 0.5, 0.34 + 0.04 * i, { trackState: 'tentative' })]),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'a crossing made early in a chain (before chainConfirmHits) counts when the chain is confirmed',
    geometry: HLINE,
    options: { chainConfirmHits: 6, minFrames: 1 },
    frames: Array.from({ length: 10 }, (_, i) => [det(i + 1, 0.5, 0.42 + 0.04 * i, { trackState: 'tentative' })]),
    expect: { door: { in: 1, out: 0 } },
  },
  {
    name: 'chainConfirmHits 0: the chain never counts',
    geometry: HLINE,
    options: { chainConfirmHits: 0 },
    frames: Array.from({ length: 10 }, (_, i) => [det(i + 1, 0.5, 0.34 + 0.04 * i, { trackState: 'tentative' })]),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'one-frame tentative tracks far apart are no chain',
    geometry: HLINE,
    frames: Array.from({ length: 10 }, (_, i) => [det(i + 1, 0.1 + 0.09 * i, i % 2 ? 0.3 : 0.7, { trackState: 'tentative' })]),
    expect: { door: { in: 0, out: 0 } },
  },
  // Anchor point: feet cross, the box centre (50 px higher) does not.
  { name: 'bottom-center anchor follows the feet', geometry: HLINE, frames: walk(1, [0.5, 0.4], [0.5, 0.54], 10), expect: { door: { in: 1, out: 0 } } },
  {
    name: 'center anchor follows the box centre',
    geometry: HLINE,
    options: { anchor: 'center' },
    frames: walk(1, [0.5, 0.4], [0.5, 0.54], 10),
    expect: { door: { in: 0, out: 0 } },
  },
  {
    name: 'top-center anchor follows the head',
    geometry: HLINE,
    options: { anchor: 'top-center' },
    frames: walk(1, [0.5, 0.4], [0.5, 0.7], 10),
    expect: { door: { in: 1, out: 0 } },
  },
  // Two people at once, one each way.
  {
    name: 'two tracks at once',
    geometry: HLINE,
    frames: together(walk(1, [0.3, 0.3], [0.3, 0.7], 12), walk(2, [0.7, 0.7], [0.7, 0.3], 12)),
    expect: { door: { in: 1, out: 1 } },
  },
];

describe('counting: line-crossing rules', function () {
  for (const c of cases) {
    it(c.name, function () {
      const { counts } = play(c.geometry, c.options, c.frames);
      assert.deepStrictEqual(counts, c.expect);
    });
  }

  it('events carry camera, line, direction, class, trackId and the frame time of the crossing', function () {
    const { events } = play(HLINE, { camera: 'cam-7' }, walk(5, [0.5, 0.3], [0.5, 0.7], 21));
    assert.strictEqual(events.length, 1);
    const e = events[0];
    // Feet reach 0.51 (past the 5 px band) at frame 11 (0.3 + 11·0.02 = 0.52); 2 frames needed: frame 12.
    assert.deepStrictEqual(
      { event: e.event, camera: e.camera, line: e.line, direction: e.direction, class: e.class, trackId: e.trackId, tMs: e.tMs },
      { event: 'line-crossing', camera: 'cam-7', line: 'door', direction: 'in', class: 'person', trackId: 5, tMs: 12 * DT },
    );
  });

  it('a crossing confirmed later carries the time it was made', function () {
    const frames = seq(walk(1, [0.5, 0.45], [0.5, 0.6], 5, { trackState: 'tentative' }), walk(1, [0.5, 0.62], [0.5, 0.7], 5));
    const { events } = play(HLINE, {}, frames);
    assert.strictEqual(events.length, 1);
    assert.ok(events[0].tMs < 5 * DT, `crossing time ${events[0].tMs} should be during the tentative frames`);
  });

  it('counts per class', function () {
    const frames = seq(walk(1, [0.4, 0.3], [0.4, 0.7], 10, { label: 'forklift', classId: 9 }), walk(2, [0.6, 0.3], [0.6, 0.7], 10));
    const { counter } = play(HLINE, {}, frames);
    assert.deepStrictEqual(counter.countsByClass(), { door: { forklift: { in: 1, out: 0 }, person: { in: 1, out: 0 } } });
  });

  it('never mutates the detections it is given', function () {
    const frames = walk(1, [0.5, 0.3], [0.5, 0.7], 10);
    const copy = JSON.parse(JSON.stringify(frames));
    play(HLINE, {}, frames);
    assert.deepStrictEqual(frames, copy);
  });

  it('ignores detections without a track id', function () {
    const frames = walk(undefined, [0.5, 0.3], [0.5, 0.7], 10);
    assert.deepStrictEqual(play(HLINE, {}, frames).counts, { door: { in: 0, out: 0 } });
  });
});

describe('counting: eviction', function () {
  it('a track not seen for trackTimeoutS is evicted, and dropped from the re-link pool after relinkS', function () {
    const c = new Counter(HLINE, { trackTimeoutS: 1, relinkS: 0.5 });
    for (let i = 0; i < 5; i++) c.update([det(1, 0.5, 0.3 + i * 0.01), det(2, 0.7, 0.3)], i * DT, W, H);
    assert.deepStrictEqual(c.stateSize(), { tracks: 2, ended: 0 });
    c.update([det(2, 0.7, 0.3)], 4 * DT + 999, W, H);
    assert.deepStrictEqual(c.stateSize(), { tracks: 2, ended: 0 }, 'not yet: 1 s has not passed');
    c.update([], 4 * DT + 1001, W, H);
    assert.deepStrictEqual(c.stateSize(), { tracks: 1, ended: 0 }, 'track 1 timed out, and is already past the re-link window');
  });

  it('a track-end signal evicts at once and keeps the track for re-link only within relinkS', function () {
    const c = new Counter(HLINE, { relinkS: 1 });
    c.update([det(1, 0.5, 0.3)], 0, W, H);
    c.endTrack(1, 40);
    assert.deepStrictEqual(c.stateSize(), { tracks: 0, ended: 1 });
    c.update([], 1001, W, H);
    assert.deepStrictEqual(c.stateSize(), { tracks: 0, ended: 0 });
  });

  it('with re-link off nothing is kept after a track ends', function () {
    const c = new Counter(HLINE, { relinkS: 0 });
    c.update([det(1, 0.5, 0.3)], 0, W, H);
    c.endTrack(1, 40);
    assert.deepStrictEqual(c.stateSize(), { tracks: 0, ended: 0 });
  });

  it('an ended track inherited by a re-link is not inherited twice', function () {
    const frames = seq(walk(1, [0.5, 0.3], [0.5, 0.497], 10), together(walk(2, [0.5, 0.503], [0.5, 0.7], 10), walk(3, [0.51, 0.503], [0.51, 0.7], 10)));
    // Track 2 inherits and counts; track 3 (no history) starts on the far side and does not.
    assert.deepStrictEqual(play(HLINE, {}, frames).counts, { door: { in: 1, out: 0 } });
  });

  it('time going backwards (a looped file) restarts per-track state, totals stay', function () {
    const c = new Counter(HLINE);
    walk(1, [0.5, 0.3], [0.5, 0.7], 10).forEach((d, i) => c.update(d, 10000 + i * DT, W, H));
    c.update([det(1, 0.5, 0.3)], 0, W, H);
    assert.deepStrictEqual(c.stateSize(), { tracks: 1, ended: 0 });
    assert.deepStrictEqual(c.counts(), { door: { in: 1, out: 0 } });
  });
});
