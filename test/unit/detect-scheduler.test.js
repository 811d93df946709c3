'use strict';
// DetectScheduler: the next batch is letterboxed while the current one is in the session, results
// come back in order, a failed batch does not stop the ones after it, and stop() waits for the run
// in flight. The runner is a YOLOv8-shaped fake whose runs finish only when the test says so.
const assert = require('assert');
const { Detector } = require('../../dist/nodes/lib/detect/detector');
const { DetectScheduler } = require('../../dist/nodes/lib/detect/scheduler');
const { resolveSpec } = require('../../dist/nodes/lib/detect/spec');

const N = 84;

function gatedRunner() {
  const runs = []; // { first, finish(), fail(e) } per run, in order
  const runner = {
    inputs: [{ name: 'images', type: 'float32', shape: [1, 3, 64, 64] }],
    outputs: [{ name: 'output0', type: 'float32', shape: [1, 6, N] }],
    metadata: { names: "{0: 'person', 1: 'forklift'}" },
    run(input, dims) {
      // The grey value of the frame identifies it; one box per run, scored by that value.
      const grey = input[3 * 64 * 32 + 32]; // a pixel inside the image, first plane
      return new Promise((resolve, reject) => {
        runs.push({
          grey,
          finish() {
            const data = new Float32Array(6 * N);
            data[0] = 32;
            data[N] = 32;
            data[2 * N] = 16;
            data[3 * N] = 16;
            data[4 * N] = 0.5 + grey / 1000;
            resolve({ output0: { data, dims: [dims[0], 6, N] } });
          },
          fail(e) {
            reject(e);
          },
        });
      });
    },
  };
  return { runner, runs };
}

function frame(v) {
  return { data: new Uint8Array(64 * 64 * 3).fill(v), width: 64, height: 64, format: 'rgb24' };
}

const tick = () => new Promise((r) => setImmediate(r));

function harness(waiting) {
  const { runner, runs } = gatedRunner();
  const detector = new Detector(runner, resolveSpec(runner));
  const delivered = [];
  const failed = [];
  let taken = 0;
  const s = new DetectScheduler(detector, {
    take(max) {
      if (!waiting.length) return null;
      const jobs = waiting.splice(0, max);
      taken += jobs.length;
      return { jobs, frames: jobs.map((v) => frame(v)) };
    },
    deliver(jobs, dets, timing) {
      delivered.push({ jobs, score: dets[0][0]?.score, timing });
    },
    fail(jobs, e) {
      failed.push({ jobs, message: e.message });
    },
  });
  return { s, runs, delivered, failed, taken: () => taken };
}

describe('detect DetectScheduler', () => {
  it('prepares the next frame while the current one is in the session, and delivers in order', async () => {
    const waiting = [10, 20, 30];
    const h = harness(waiting);
    h.s.kick();
    // One run started, and the next frame already taken and letterboxed (not yet run).
    assert.strictEqual(h.runs.length, 1);
    assert.strictEqual(h.taken(), 2);
    assert.strictEqual(h.s.busy, true);
    h.runs[0].finish();
    await tick();
    // The prepared frame went to the session at once, and the third was prepared behind it.
    assert.strictEqual(h.runs.length, 2);
    assert.strictEqual(h.taken(), 3);
    assert.deepStrictEqual(
      h.delivered.map((d) => d.jobs),
      [[10]],
    );
    h.runs[1].finish();
    await tick();
    h.runs[2].finish();
    await tick();
    assert.deepStrictEqual(
      h.delivered.map((d) => d.jobs),
      [[10], [20], [30]],
    );
    // Each run saw its own frame's pixels (the buffer of a prepared frame is not overwritten).
    assert.deepStrictEqual(
      h.runs.map((r) => r.grey),
      [10, 20, 30],
    );
    assert.strictEqual(h.s.busy, false);
  });

  it('a frame that arrives during a run is letterboxed on arrival, not when the run ends', async () => {
    const waiting = [1];
    const h = harness(waiting);
    h.s.kick();
    assert.strictEqual(h.taken(), 1);
    // A frame arriving during the run is prepared on arrival, not when the run ends.
    waiting.push(2);
    h.s.kick();
    assert.strictEqual(h.taken(), 2);
    assert.strictEqual(h.runs.length, 1, 'still one run in the session');
    h.runs[0].finish();
    await tick();
    assert.strictEqual(h.runs.length, 2);
    h.runs[1].finish();
    await tick();
    assert.strictEqual(h.delivered.length, 2);
  });

  it('a failed run fails its own jobs only; the next batch still runs', async () => {
    const h = harness([1, 2]);
    h.s.kick();
    h.runs[0].fail(new Error('boom'));
    await tick();
    assert.deepStrictEqual(h.failed, [{ jobs: [1], message: 'boom' }]);
    assert.strictEqual(h.runs.length, 2);
    h.runs[1].finish();
    await tick();
    assert.deepStrictEqual(
      h.delivered.map((d) => d.jobs),
      [[2]],
    );
  });

  it('stop() hands back the prepared batch and waits for the run in flight, whose result is still delivered', async () => {
    const h = harness([1, 2, 3]);
    h.s.kick();
    const dropped = [];
    let stopped = false;
    const p = h.s
      .stop((jobs) => dropped.push(...jobs))
      .then(() => {
        stopped = true;
      });
    assert.deepStrictEqual(dropped, [2]);
    await tick();
    assert.strictEqual(stopped, false, 'waits for the run in flight');
    h.runs[0].finish();
    await p;
    assert.deepStrictEqual(
      h.delivered.map((d) => d.jobs),
      [[1]],
    );
    assert.strictEqual(h.runs.length, 1, 'nothing new started after stop');
    h.s.kick();
    assert.strictEqual(h.runs.length, 1);
  });

  it('a frame that cannot be letterboxed fails its job and does not block the next', async () => {
    const { runner, runs } = gatedRunner();
    const detector = new Detector(runner, resolveSpec(runner));
    const failed = [];
    const delivered = [];
    const queue = [
      { jobs: ['bad'], frames: [{ data: new Uint8Array(5), width: 64, height: 64, format: 'rgb24' }] },
      { jobs: ['good'], frames: [frame(7)] },
    ];
    const s = new DetectScheduler(detector, {
      take: () => queue.shift() ?? null,
      deliver: (jobs) => delivered.push(...jobs),
      fail: (jobs, e) => failed.push([...jobs, e.message]),
    });
    s.kick();
    assert.strictEqual(failed.length, 1);
    assert.match(failed[0][1], /bytes/);
    assert.strictEqual(runs.length, 1, 'the next batch was taken and started in the same kick');
    runs[0].finish();
    await tick();
    assert.deepStrictEqual(delivered, ['good']);
  });
});
