'use strict';
// Embedding models: the spec resolved from the model's shapes, the vision-model format setting, and
// the ONNX embedder's batching and normalisation with a fake runner.
const assert = require('assert');
const { resolveEmbeddingSpec } = require('../../dist/nodes/lib/reid/spec.js');
const { OnnxEmbedder } = require('../../dist/nodes/lib/reid/embedder.js');
const { settingsFromConfig } = require('../../dist/nodes/model/config.js');

const model = (ishape, oshape) => ({
  inputs: [{ name: 'input', type: 'float32', shape: ishape }],
  outputs: [{ name: 'output', type: 'float32', shape: oshape }],
  metadata: {},
});

describe('reid: embedding spec', () => {
  const rows = [
    {
      name: 'OSNet export, dynamic batch',
      m: model(['batch', 3, 256, 128], ['batch', 512]),
      want: { inputWidth: 128, inputHeight: 256, dim: 512, maxBatch: 16, dynamicBatch: true },
    },
    { name: 'fixed batch of 8', m: model([8, 3, 256, 128], [8, 256]), want: { inputWidth: 128, inputHeight: 256, dim: 256, maxBatch: 8, dynamicBatch: false } },
    {
      name: 'dynamic size falls back to 256×128',
      m: model(['n', 3, 'h', 'w'], ['n', 128]),
      want: { inputWidth: 128, inputHeight: 256, dim: 128, maxBatch: 16, dynamicBatch: true },
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const s = resolveEmbeddingSpec(r.m);
      assert.deepStrictEqual({ inputWidth: s.inputWidth, inputHeight: s.inputHeight, dim: s.dim, maxBatch: s.maxBatch, dynamicBatch: s.dynamicBatch }, r.want);
      assert.deepStrictEqual(s.normalisation.mean, [0.485, 0.456, 0.406]);
    });
  }
  const bad = [
    { name: 'a detector output', m: model([1, 3, 416, 416], [1, 3549, 85]), err: /returns \[N,D\]/ },
    { name: 'one channel', m: model([1, 1, 256, 128], [1, 512]), err: /1 channels/ },
    { name: 'size mismatch', m: model([1, 3, 256, 128], [1, 512]), cfg: { inputWidth: 64 }, err: /does not match/ },
    { name: 'no fixed length', m: model([1, 3, 256, 128], [1, 'd']), err: /no fixed embedding length/ },
  ];
  for (const r of bad) it(`refuses ${r.name}`, () => assert.throws(() => resolveEmbeddingSpec(r.m, r.cfg), r.err));
});

describe('reid: vision-model format setting', () => {
  it('accepts embedding and names it in the error for a wrong format', () => {
    assert.strictEqual(settingsFromConfig({ model: 'osnet_x0_25_msmt17', format: 'embedding' }).format, 'embedding');
    assert.throws(
      () => settingsFromConfig({ model: 'm', format: 'reid' }),
      /output format must be one of auto, yolox, yolov5, yolov8, end2end, embedding, got "reid"/,
    );
  });
});

describe('reid: ONNX embedder with a fake runner', () => {
  it('batches at most maxBatch crops per run, pads a fixed batch, and L2-normalises the output', async () => {
    const spec = resolveEmbeddingSpec(model([3, 3, 8, 4], [3, 2]));
    const runs = [];
    const runner = {
      async run(input, dims) {
        runs.push(dims.slice());
        // Output per item: [mean of the first plane, 1] so the vector depends on the crop.
        const n = dims[0];
        const per = 3 * dims[2] * dims[3];
        const data = new Float32Array(n * 2);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = 0; k < dims[2] * dims[3]; k++) s += input[i * per + k];
          data[i * 2] = s / (dims[2] * dims[3]);
          data[i * 2 + 1] = 1;
        }
        return { output: { data, dims: [n, 2] } };
      },
    };
    const e = new OnnxEmbedder(runner, spec, 'fake');
    /** @type {import('../../dist/nodes/lib/detect/letterbox').SourceImage} */
    const img = { data: new Uint8Array(16 * 16 * 3).fill(255), width: 16, height: 16, format: 'rgb24' };
    const vs = await e.embed(img, [
      [0, 0, 8, 16],
      [8, 0, 16, 16],
      [0, 0, 16, 8],
      [4, 4, 12, 12],
    ]);
    assert.deepStrictEqual(
      runs,
      [
        [3, 3, 8, 4],
        [3, 3, 8, 4],
      ],
      'a fixed batch of 3 is filled twice',
    );
    assert.strictEqual(vs.length, 4);
    // White, ImageNet-normalised red channel: (1 − 0.485) / 0.229 = 2.2489; the vector (2.2489, 1) normalised.
    const n = Math.hypot(2.2489, 1);
    for (const v of vs) assert.ok(Math.abs(v[0] - 2.2489 / n) < 1e-3 && Math.abs(v[1] - 1 / n) < 1e-3, Array.from(v).join());
    assert.strictEqual(e.description, 'fake (onnx, 2-d)');
  });
});
