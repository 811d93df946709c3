'use strict';
// Memory flat over a long synthetic run: people keep arriving, crossing, switching ids at the line
// and leaving for an hour of 25 fps video; per-track state must stay bounded (evicted on track end
// or timeout) and every person must still be counted exactly once.
const assert = require('assert');
const { Counter } = require('../../dist/nodes/lib/counting');
const { MAX_TRACK_RECORDS, MAX_CLASSES } = require('../../dist/nodes/lib/counting/counter.js');
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */

describe('counting: memory over a long run', function () {
  it('per-track state stays bounded and counts stay exact over 90,000 frames', function () {
    const W = 1000;
    const H = 1000;
    const c = new Counter(
      {
        lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }],
        zones: [
          {
            name: 'z',
            polygon: [
              [0, 0.4],
              [1, 0.4],
              [1, 0.6],
              [0, 0.6],
            ],
          },
        ],
      },
      { camera: 'mem' },
    );
    const FRAMES = 90000;
    const LIFE = 50; // frames a person is visible
    const EVERY = 10; // a new person every 10 frames: 5 on screen at once
    let nextId = 1;
    const people = []; // {start, x, ids: [idBeforeSwitch, idAfterSwitch?], ended}
    let maxTracks = 0;
    let maxEnded = 0;
    let entered = 0;
    let exited = 0;
    for (let f = 0; f < FRAMES; f++) {
      const tMs = f * 40;
      if (f % EVERY === 0) {
        const n = people.length;
        // Every 3rd person gets an id switch at the line, as a tracker would give it.
        people.push({ start: f, x: 0.05 + ((n * 0.13) % 0.9), ids: n % 3 === 0 ? [nextId++, nextId++] : [nextId++] });
      }
      /** @type {Detection[]} */
      const dets = [];
      for (const p of people) {
        const k = f - p.start;
        if (k < 0 || k >= LIFE) continue;
        const y = 0.3 + (0.4 * k) / (LIFE - 1);
        const id = p.ids.length === 2 && k >= LIFE / 2 ? p.ids[1] : p.ids[0];
        if (p.ids.length === 2 && (k === LIFE / 2 - 1 || k === LIFE / 2)) continue; // a 2-frame gap at the switch
        dets.push({ box: [p.x * W - 20, y * H - 100, p.x * W + 20, y * H], score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed' });
      }
      const r = c.update(dets, tMs, W, H);
      for (const e of r.events) {
        if (e.event === 'zone-enter') entered++;
        if (e.event === 'zone-exit') exited++;
      }
      // Half the people get an explicit track-end, the rest are evicted by the timeout.
      for (const p of people) {
        if (f - p.start === LIFE && p.ids[0] % 2 === 0) for (const id of p.ids) r.events.push(...c.endTrack(id, tMs));
      }
      while (people.length && f - people[0].start > LIFE) people.shift();
      const s = c.stateSize();
      maxTracks = Math.max(maxTracks, s.tracks);
      maxEnded = Math.max(maxEnded, s.ended);
    }
    const persons = FRAMES / EVERY;
    const finished = persons - Math.ceil(LIFE / EVERY); // the last few have not reached the line
    const counts = c.counts().door;
    assert.strictEqual(counts.out, 0);
    assert.ok(counts.in >= finished && counts.in <= persons, `in = ${counts.in}, expected every one of ~${finished} people exactly once`);
    // Live tracks: visible people plus those waiting for the 2 s timeout (50 frames ≈ 5 people) and switch predecessors.
    assert.ok(maxTracks <= 20, `live track records peaked at ${maxTracks}`);
    assert.ok(maxEnded <= 20, `ended (re-link) records peaked at ${maxEnded}`);
    assert.ok(Math.abs(entered - exited) <= 10, `zone enters ${entered} vs exits ${exited}`);
    assert.ok(entered >= finished, `every person enters the zone once (${entered} enters, ${finished} people): no double enter at the switch`);
    assert.ok(entered <= persons, `${entered} enters for ${persons} people: an id switch made a second enter`);
  });

  it('random walks with id churn and stand-ins: never throws, once means once, and state drains when the scene empties', function () {
    // Seeded PRNG (mulberry32) so a failure replays exactly.
    let seed = 12345;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const c = new Counter({
      lines: [
        { name: 'a', start: [0.1, 0.5], end: [0.9, 0.5] },
        { name: 'b', start: [0.5, 0], end: [0.5, 1] },
      ],
      zones: [
        {
          name: 'z',
          polygon: [
            [0.3, 0.3],
            [0.7, 0.3],
            [0.7, 0.7],
            [0.3, 0.7],
          ],
          capacity: 2,
        },
      ],
    });
    const walkers = new Map();
    let nextId = 1;
    const seen = new Set();
    let resized = 0;
    for (let f = 0; f < 20000; f++) {
      if (f < 19000 && walkers.size < 8 && rnd() < 0.05) walkers.set(nextId++, { x: rnd(), y: rnd(), h: 40 + rnd() * 120, state: 'tentative', age: 0 });
      /** @type {Detection[]} */
      const dets = [];
      for (const [id, w] of walkers) {
        w.x = Math.min(1, Math.max(0, w.x + (rnd() - 0.5) * 0.03));
        w.y = Math.min(1, Math.max(0, w.y + (rnd() - 0.5) * 0.03));
        if (++w.age > 2) w.state = 'confirmed';
        // Now and then hidden for 0.5–1.2 s, and half of those come back on a box 1.6× taller (the
        // tracker gave the track to someone nearer): the counter leaves stand-ins in its re-link pool.
        if (w.hidden > 0) {
          if (--w.hidden === 0 && rnd() < 0.5) {
            w.h = Math.min(300, w.h * 1.6);
            resized++;
          }
          continue;
        }
        if (w.state === 'confirmed' && rnd() < 0.003) w.hidden = 13 + Math.floor(rnd() * 18);
        if (rnd() < 0.1) continue; // missed detection
        dets.push({
          box: [w.x * 640 - 15, w.y * 480 - w.h, w.x * 640 + 15, w.y * 480],
          score: rnd(),
          classId: 0,
          label: rnd() < 0.9 ? 'person' : 'cart',
          trackId: id,
          trackState: /** @type {Detection['trackState']} */ (w.state),
        });
        if (rnd() < 0.002) dets.push({ box: [NaN, 0, 1, 1], score: 1, classId: 0, label: 'person', trackId: id }); // garbage is skipped
      }
      const r = c.update(dets, f * 40, 640, 480);
      for (const e of r.events) {
        if (e.event !== 'line-crossing') continue;
        const key = `${e.trackId}/${e.line}/${e.direction}`;
        assert.ok(!seen.has(key), `${key} counted twice`);
        seen.add(key);
      }
      for (const id of [...walkers.keys()]) {
        if (rnd() < 0.01) {
          walkers.delete(id);
          if (rnd() < 0.5) c.endTrack(id, f * 40); // half end with a track-end signal, half time out
        }
      }
    }
    assert.ok(seen.size > 50, `the random walk should cross lines (${seen.size} crossings)`);
    assert.ok(resized > 20, `tracks re-found on a resized box after a gap: ${resized}`);
    c.update([], 20000 * 40 + 10000, 640, 480);
    assert.deepStrictEqual(c.stateSize(), { tracks: 0, ended: 0 });
    assert.strictEqual(c.update([], 20000 * 40 + 10040, 640, 480).zones.z.occupancy, 0);
  });

  it('ids from anywhere (a new one per detection every frame): records stay within MAX_TRACK_RECORDS, the oldest end early', function () {
    const W = 1000;
    const H = 1000;
    const c = new Counter({ lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }] }, { camera: 'flood', relinkS: 10, trackTimeoutS: 60 });
    let id = 1;
    for (let f = 0; f < 12; f++) {
      const dets = Array.from(
        { length: 1000 },
        (_, k) =>
          /** @type {Detection} */ ({
            box: [k % 900, 100 + f, (k % 900) + 40, 200 + f],
            score: 0.9,
            classId: 0,
            label: 'person',
            trackId: id++,
            trackState: 'confirmed',
          }),
      );
      c.update(dets, f * 40, W, H);
      const s = c.stateSize();
      assert.ok(s.tracks <= MAX_TRACK_RECORDS && s.ended <= MAX_TRACK_RECORDS, `frame ${f}: ${JSON.stringify(s)}`);
    }
    assert.strictEqual(c.stateSize().tracks, MAX_TRACK_RECORDS);
    assert.strictEqual(c.evictedTracks, 12000 - MAX_TRACK_RECORDS);
  });

  it('labels counted separately are bounded: beyond MAX_CLASSES they count as "other"', function () {
    const W = 1000;
    const H = 1000;
    const c = new Counter({ lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }] }, { camera: 'labels', minFrames: 1 });
    const N = MAX_CLASSES + 10;
    for (let f = 0; f < 10; f++) {
      const y = 300 + f * 50;
      const dets = Array.from(
        { length: N },
        (_, k) =>
          /** @type {Detection} */ ({
            box: [k * 10, y - 50, k * 10 + 8, y],
            score: 0.9,
            classId: k,
            label: `class-${k}`,
            trackId: k + 1,
            trackState: 'confirmed',
          }),
      );
      c.update(dets, f * 40, W, H);
    }
    const byClass = c.countsByClass().door;
    assert.strictEqual(c.counts().door.in, N, 'every one counted');
    assert.strictEqual(Object.keys(byClass).length, MAX_CLASSES + 1);
    assert.deepStrictEqual(byClass.other, { in: 10, out: 0 });
  });
});
