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
    /** @type {import('../../dist/nodes/lib/onnx/session').TensorInfo[]} */
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
            // One box per batch item (a batched run answers every frame in it).
            const data = new Float32Array(dims[0] * 6 * N);
            for (let b = 0; b < dims[0]; b++) {
              const o = b * 6 * N;
              data[o] = 32;
              data[o + N] = 32;
              data[o + 2 * N] = 16;
              data[o + 3 * N] = 16;
              data[o + 4 * N] = 0.5 + grey / 1000;
            }
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

/** @returns {import('../../dist/nodes/lib/detect/letterbox').SourceImage} */
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
    /** @type {{ jobs: string[], frames: import('../../dist/nodes/lib/detect/letterbox').SourceImage[] }[]} */
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

describe('detect DetectScheduler: runs in flight and the batch deadline', () => {
  /**
   * A detector over a gated runner whose model takes up to `maxBatch` frames a run.
   * @param {number[]} waiting
   * @param {{ maxBatch?: number, inFlight?: number, batchWaitMs?: number }} [o]
   */
  function batchHarness(waiting, { maxBatch = 1, inFlight, batchWaitMs } = {}) {
    const { runner, runs } = gatedRunner();
    if (maxBatch > 1) runner.inputs[0].shape = ['N', 3, 64, 64];
    const detector = new Detector(runner, resolveSpec(runner, { maxBatch }));
    const delivered = [];
    const timers = [];
    const s = new DetectScheduler(
      detector,
      {
        take(max) {
          if (!waiting.length) return null;
          const jobs = waiting.splice(0, max);
          return { jobs, frames: jobs.map((v) => frame(v)) };
        },
        deliver: (jobs) => delivered.push(jobs),
        fail: (jobs, e) => delivered.push(['failed', e.message]),
        waiting: () => waiting.length,
        timers: {
          set(fn, ms) {
            /** @type {{ fn: () => void, ms: number, cleared: boolean }} */
            const t = { fn, ms, cleared: false };
            timers.push(t);
            return t;
          },
          clear(/** @type {{ cleared: boolean }} */ t) {
            t.cleared = true;
          },
        },
      },
      { inFlight, batchWaitMs },
    );
    return { s, runs, delivered, timers };
  }

  it('keeps two runs in flight when told to (a pool of two sessions), each with its own frame', async () => {
    const h = batchHarness([1, 2, 3, 4], { inFlight: 2 });
    h.s.kick();
    assert.strictEqual(h.runs.length, 2, 'two runs at once');
    assert.strictEqual(h.s.inFlight, 2);
    assert.deepStrictEqual(
      h.runs.map((r) => r.grey),
      [1, 2],
    );
    h.runs[1].finish();
    await tick();
    assert.strictEqual(h.runs.length, 3, 'a freed session takes the prepared frame');
    h.runs[0].finish();
    h.runs[2].finish();
    await tick();
    h.runs[3].finish();
    await tick();
    assert.deepStrictEqual(h.delivered.map((j) => j[0]).sort(), [1, 2, 3, 4]);
    assert.strictEqual(h.s.busy, false);
  });

  it('with one run in flight (the default for one session) the second waits', () => {
    const h = batchHarness([1, 2, 3]);
    h.s.kick();
    assert.strictEqual(h.runs.length, 1);
  });

  it('a batch deadline holds a part-full batch until more cameras fill it', async () => {
    const waiting = [1];
    const h = batchHarness(waiting, { maxBatch: 3, batchWaitMs: 20 });
    h.s.kick();
    assert.strictEqual(h.runs.length, 0, 'one frame of three: waits');
    assert.strictEqual(h.timers.length, 1);
    assert.strictEqual(h.timers[0].ms, 20);
    waiting.push(2);
    h.s.kick();
    assert.strictEqual(h.runs.length, 0, 'two of three: still waits, on the same deadline');
    assert.strictEqual(h.timers.length, 1);
    waiting.push(3);
    h.s.kick();
    assert.strictEqual(h.runs.length, 1, 'full: runs at once');
    assert.strictEqual(h.timers[0].cleared, true);
    h.runs[0].finish();
    await tick();
    assert.deepStrictEqual(h.delivered, [[1, 2, 3]]);
  });

  it('when the deadline passes, the part-full batch runs', async () => {
    const waiting = [7, 8];
    const h = batchHarness(waiting, { maxBatch: 4, batchWaitMs: 50 });
    h.s.kick();
    assert.strictEqual(h.runs.length, 0);
    h.timers[0].fn();
    assert.strictEqual(h.runs.length, 1);
    h.runs[0].finish();
    await tick();
    assert.deepStrictEqual(h.delivered, [[7, 8]]);
    // The next frame starts a new deadline.
    waiting.push(9);
    h.s.kick();
    assert.strictEqual(h.timers.length, 2);
  });

  it('no deadline (0 ms): a lone frame runs at once; bad options are refused', () => {
    const h = batchHarness([5], { maxBatch: 4 });
    h.s.kick();
    assert.strictEqual(h.runs.length, 1);
    assert.strictEqual(h.timers.length, 0);
    assert.throws(() => batchHarness([], { inFlight: 0 }), /runs in flight must be a whole number from 1 to 64, got 0/);
    assert.throws(() => batchHarness([], { batchWaitMs: -1 }), /batch wait must be 0–1000 ms, got -1/);
  });
});
