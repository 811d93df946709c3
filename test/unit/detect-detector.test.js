'use strict';
const assert = require('assert');
const { Detector, chunk } = require('../../dist/nodes/lib/detect/detector');
const { resolveSpec } = require('../../dist/nodes/lib/detect/spec');
const { makeGrid } = require('../../dist/nodes/lib/detect/decode');
/** @typedef {import('../../dist/nodes/lib/detect/letterbox').SourceImage} SourceImage */
/** @typedef {import('../../dist/nodes/lib/detect/spec').ModelDescription} ModelDescription */
/** @typedef {import('../../dist/nodes/lib/detect/spec').ModelConfig} ModelConfig */

// A fake model: YOLOv8-shaped, 2 classes, input 64×64 (grid 8²+4²+2² = 84 anchors). It "sees" one
// object per batch item, at a box given in model pixels, and records what it was asked to run.
/** @param {{ batchDim?: number | string, boxes: number[][] }} o */
function fakeV8({ batchDim = 1, boxes }) {
  const N = 84;
  const calls = [];
  const runner = {
    inputs: [{ name: 'images', type: 'float32', shape: [batchDim, 3, 64, 64] }],
    outputs: [{ name: 'output0', type: 'float32', shape: [batchDim, 6, N] }],
    metadata: { names: "{0: 'person', 1: 'forklift'}" },
    async run(input, dims) {
      calls.push({ dims: [...dims], first: input[0] });
      const B = dims[0];
      const data = new Float32Array(B * 6 * N);
      for (let b = 0; b < B; b++) {
        const [x1, y1, x2, y2, cls, score] = boxes[b] ?? [0, 0, 0, 0, 0, 0];
        const o = b * 6 * N;
        data[o] = (x1 + x2) / 2;
        data[o + N] = (y1 + y2) / 2;
        data[o + 2 * N] = x2 - x1;
        data[o + 3 * N] = y2 - y1;
        data[o + (4 + cls) * N] = score;
        // A near-duplicate of the same object in the next anchor: NMS must remove it.
        data[o + 1] = data[o] + 1;
        data[o + N + 1] = data[o + N];
        data[o + 2 * N + 1] = data[o + 2 * N];
        data[o + 3 * N + 1] = data[o + 3 * N];
        data[o + (4 + cls) * N + 1] = score * 0.9;
      }
      return { output0: { data, dims: [B, 6, N] } };
    },
  };
  return { runner, calls };
}

/** @returns {SourceImage} */
function frame(w, h, v = 0) {
  return { data: new Uint8Array(w * h * 3).fill(v), width: w, height: h, format: 'rgb24' };
}

describe('detect Detector', () => {
  it('resolves the spec from shapes and metadata: format, labels, batch', () => {
    const { runner } = fakeV8({ boxes: [] });
    const spec = resolveSpec(runner);
    assert.strictEqual(spec.format, 'yolov8');
    assert.deepStrictEqual(spec.labels, ['person', 'forklift']);
    assert.strictEqual(spec.maxBatch, 1);
    assert.strictEqual(spec.dynamicBatch, false);
  });

  it('maps a box back to source pixels through the letterbox, removing the duplicate by NMS', async () => {
    // Source 128×64 → scale 0.5, inner 64×32, centred: padY 16. Model box [8,24,24,40] → source [16,16,48,48].
    const { runner } = fakeV8({ boxes: [[8, 24, 24, 40, 0, 0.9]] });
    const d = new Detector(runner, resolveSpec(runner));
    const r = await d.detect([frame(128, 64)]);
    assert.strictEqual(r.detections[0].length, 1);
    const [x] = r.detections[0];
    assert.strictEqual(x.label, 'person');
    assert.deepStrictEqual(
      x.box.map((v) => Math.round(v)),
      [16, 16, 48, 48],
    );
    assert.strictEqual(r.timing, undefined, 'no clock given, no timings');
  });

  it('reports stage timings from the clock it is given', async () => {
    const { runner } = fakeV8({ boxes: [] });
    let t = 0;
    const r = await new Detector(runner, resolveSpec(runner)).detect([frame(64, 64)], () => (t += 5));
    assert.deepStrictEqual(r.timing, { preprocessMs: 5, inferenceMs: 5, postprocessMs: 5 });
  });

  it('applies the class filter and per-class thresholds, and changes them live', async () => {
    const { runner } = fakeV8({ boxes: [[8, 8, 24, 40, 1, 0.6]] });
    const d = new Detector(runner, resolveSpec(runner), { filters: { conf: 0.5 } });
    assert.strictEqual((await d.detect([frame(64, 64)])).detections[0][0].label, 'forklift');
    d.setFilters({ classes: ['person'] });
    assert.strictEqual((await d.detect([frame(64, 64)])).detections[0].length, 0);
    d.setFilters({ classes: [], classConf: { forklift: 0.7 } });
    assert.strictEqual((await d.detect([frame(64, 64)])).detections[0].length, 0);
    d.setFilters({ classConf: { forklift: 0.55 } });
    assert.strictEqual((await d.detect([frame(64, 64)])).detections[0].length, 1);
    assert.strictEqual(d.currentFilters.conf, 0.5);
  });

  it('names filter labels the model lacks', () => {
    const { runner } = fakeV8({ boxes: [] });
    const d = new Detector(runner, resolveSpec(runner), { filters: { classes: ['persn'] } });
    assert.deepStrictEqual(d.unknownLabels, ['persn']);
  });

  it('batches frames of several cameras when the batch dimension is dynamic, and splits the output', async () => {
    const { runner, calls } = fakeV8({
      batchDim: 'batch',
      boxes: [
        [8, 8, 24, 40, 0, 0.9],
        [32, 8, 48, 40, 1, 0.8],
        [0, 0, 16, 16, 0, 0.7],
      ],
    });
    const spec = resolveSpec(runner, { maxBatch: 4 });
    assert.strictEqual(spec.dynamicBatch, true);
    const d = new Detector(runner, spec);
    const frames = [frame(64, 64, 1), frame(64, 64, 2), frame(64, 64, 3)];
    const r = await d.detect(frames);
    assert.deepStrictEqual(
      calls.map((c) => c.dims),
      [[3, 3, 64, 64]],
    );
    assert.deepStrictEqual(
      r.detections.map((x) => x.map((y) => y.label)),
      [['person'], ['forklift'], ['person']],
    );
    assert.deepStrictEqual(r.detections[1][0].box.map(Math.round), [32, 8, 48, 40]);
  });

  it('reserves an input buffer from prepare until its run ends or it is released, then reuses it', async () => {
    /** @type {(out: object) => void} */
    let release;
    const runner = { run: () => new Promise((res) => (release = res)) };
    const { runner: shape } = fakeV8({ boxes: [] });
    const d = new Detector(runner, resolveSpec(shape));
    const p1 = d.prepare([frame(64, 64, 1)]);
    const running = d.infer(p1);
    const p2 = d.prepare([frame(64, 64, 2)]);
    assert.notStrictEqual(p2.tensor, p1.tensor, 'the buffer in the session is not overwritten');
    assert.strictEqual(p1.tensor[0], 1);
    release({ output0: { data: new Float32Array(6 * 84), dims: [1, 6, 84] } });
    await running;
    const p3 = d.prepare([frame(64, 64, 3)]);
    assert.strictEqual(p3.tensor, p1.tensor, 'free again after the run');
    // p2 and p3 are both reserved now: a fourth gets its own buffer; a released one is reused.
    assert.notStrictEqual(d.prepare([frame(64, 64, 4)]).tensor, p2.tensor);
    d.release(p2);
    assert.strictEqual(d.prepare([frame(64, 64, 5)]).tensor, p2.tensor);
  });

  it('refuses more frames than the model takes in one run', () => {
    const { runner } = fakeV8({ boxes: [] });
    const d = new Detector(runner, resolveSpec(runner));
    assert.throws(() => d.prepare([frame(8, 8), frame(8, 8)]), /at most 1/);
  });

  it('chunk splits a list of cameras into runs of the batch size', () => {
    assert.deepStrictEqual(chunk(['a', 'b', 'c', 'd', 'e'], 2), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepStrictEqual(chunk([], 3), []);
    assert.throws(() => chunk([1], 0), /batch size/);
  });

  it('decodes a YOLOX raw output end to end through the Detector', async () => {
    const W = 64,
      H = 64,
      NC = 2,
      grid = makeGrid(W, H),
      N = grid.gx.length,
      K = 5 + NC;
    const runner = {
      async run() {
        const data = new Float32Array(N * K);
        // Row 27 = stride 8, cell (3,3): centre (0.5+3)·8 = 28; w = h = e^1·8.
        data.set([0.5, 0.5, 1, 1, 0.95, 0.9, 0.05], 27 * K);
        return { output: { data, dims: [1, N, K] } };
      },
    };
    const spec = resolveSpec(
      { inputs: [{ name: 'images', type: 'float32', shape: [1, 3, 64, 64] }], outputs: [{ name: 'output', type: 'float32', shape: [1, N, K] }], metadata: {} },
      { labels: ['person', 'cat'] },
    );
    assert.strictEqual(spec.format, 'yolox');
    assert.strictEqual(spec.preprocess.align, 'top-left');
    const r = await new Detector(runner, spec).detect([frame(64, 64)]);
    const half = (Math.E * 8) / 2;
    assert.deepStrictEqual(
      r.detections[0][0].box.map((v) => +v.toFixed(3)),
      [28 - half, 28 - half, 28 + half, 28 + half].map((v) => +v.toFixed(3)),
    );
  });

  /** @type {[ModelDescription, ModelConfig, RegExp][]} */
  const badSpecs = [
    [
      { inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 'h', 'w'] }], outputs: [{ name: 'o', type: 'float32', shape: [1, 300, 6] }], metadata: {} },
      {},
      /dynamic size: set the input width and height/,
    ],
    [
      { inputs: [{ name: 'x', type: 'float32', shape: [1, 1, 64, 64] }], outputs: [{ name: 'o', type: 'float32', shape: [1, 300, 6] }], metadata: {} },
      {},
      /1 channels/,
    ],
    [
      { inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 64, 64] }], outputs: [{ name: 'o', type: 'float32', shape: [1, 1000, 85] }], metadata: {} },
      {},
      /matches no decoder/,
    ],
    [
      { inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 64, 64] }], outputs: [{ name: 'o', type: 'float32', shape: [1, 300, 6] }], metadata: {} },
      { inputWidth: 128 },
      /does not match the model's fixed 64×64/,
    ],
    [
      { inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 64, 64] }], outputs: [{ name: 'o', type: 'float32', shape: [1, 300, 6] }], metadata: {} },
      { format: /** @type {any} */ ('ssd') },
      /unknown output format/,
    ],
  ];
  for (const [model, cfg, re] of badSpecs) {
    it(`spec error: ${re.source}`, () => assert.throws(() => resolveSpec(model, cfg), re));
  }

  it('pads labels and warns when there are fewer names than classes', () => {
    const spec = resolveSpec(
      { inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 64, 64] }], outputs: [{ name: 'o', type: 'float32', shape: [1, 6, 84] }], metadata: {} },
      { labels: ['a'] },
    );
    assert.deepStrictEqual(spec.labels, ['a', 'class1']);
    assert.match(spec.warnings[0], /1 class names for a model with 2 classes/);
  });
});
