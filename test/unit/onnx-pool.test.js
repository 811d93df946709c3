'use strict';
// Several sessions behind one runner (runner-pool.ts), threads shared out between them, and the GPU
// provider settings (device, TensorRT FP16, engine cache, batch profiles) as ONNX Runtime gets them.
const assert = require('assert');
const { RunnerPool, threadsPerSession } = require('../../dist/nodes/lib/onnx/runner-pool');
const { createSession, tensorrtEnv, validateGpuOptions, providerEntry } = require('../../dist/nodes/lib/onnx/session');
const { sessionKey, validateSessions } = require('../../dist/nodes/lib/model/loader');
const { validateSessionOptions } = require('../../dist/nodes/lib/onnx/session');

function gated(name) {
  const runs = [];
  return {
    runs,
    runner: {
      inputs: [{ name: 'in', type: 'float32', shape: [1, 3, 8, 8] }],
      outputs: [],
      metadata: {},
      provider: /** @type {const} */ ('cpu'),
      released: false,
      run() {
        return new Promise((resolve) => runs.push(() => resolve({ out: { data: new Float32Array([name]), dims: [1] } })));
      },
      async release() {
        this.released = true;
      },
    },
  };
}

describe('ONNX runner pool and GPU options', () => {
  it('sends each run to the session with the fewest runs in flight', async () => {
    const a = gated(1);
    const b = gated(2);
    const pool = new RunnerPool([a.runner, b.runner]);
    assert.strictEqual(pool.parallel, 2);
    const r1 = pool.run(new Float32Array(1), [1]);
    const r2 = pool.run(new Float32Array(1), [1]);
    assert.deepStrictEqual([a.runs.length, b.runs.length], [1, 1]);
    const r3 = pool.run(new Float32Array(1), [1]);
    assert.deepStrictEqual(pool.inFlight, [2, 1]);
    b.runs[0]();
    assert.strictEqual((await r2).out.data[0], 2);
    const r4 = pool.run(new Float32Array(1), [1]);
    assert.deepStrictEqual([a.runs.length, b.runs.length], [2, 2], 'the freed session got the next run');
    a.runs[0]();
    a.runs[1]();
    b.runs[1]();
    await Promise.all([r1, r3, r4]);
    assert.deepStrictEqual(pool.inFlight, [0, 0]);
    await pool.release();
    assert.strictEqual(a.runner.released && b.runner.released, true);
    assert.throws(() => new RunnerPool([]), /at least one session/);
  });

  it('shares the cores out between sessions', () => {
    assert.strictEqual(threadsPerSession(8, 1), 0);
    assert.strictEqual(threadsPerSession(8, 2), 4);
    assert.strictEqual(threadsPerSession(2, 3), 1);
    assert.strictEqual(validateSessions(undefined), 1);
    assert.throws(() => validateSessions(0), /sessions must be a whole number from 1 to 16, got 0/);
  });

  it('hands CUDA and TensorRT their device; the CPU provider stays a plain name', async () => {
    const g = validateGpuOptions({ deviceId: 1 });
    assert.deepStrictEqual(providerEntry('cuda', g), { name: 'cuda', deviceId: 1 });
    assert.deepStrictEqual(providerEntry('tensorrt', g), { name: 'tensorrt', deviceId: 1 });
    assert.strictEqual(providerEntry('cpu', g), 'cpu');
    const asked = [];
    /** @type {import('../../dist/nodes/lib/onnx/session').OrtModuleLike} */
    const fake = {
      Tensor: class {},
      InferenceSession: {
        async create(_b, o) {
          asked.push(o.executionProviders[0]);
          if (o.executionProviders[0] !== 'cpu') throw new Error('Failed to load shared library');
          return { inputNames: ['i'], outputNames: ['o'], run: async () => ({}), release: async () => undefined };
        },
      },
    };
    const { runner } = await createSession(fake, new Uint8Array(), { providers: ['tensorrt', 'cuda', 'cpu'], gpu: { deviceId: 2 } });
    assert.strictEqual(runner.provider, 'cpu');
    assert.deepStrictEqual(asked, [{ name: 'tensorrt', deviceId: 2 }, { name: 'cuda', deviceId: 2 }, 'cpu']);
    assert.throws(() => validateGpuOptions({ deviceId: -1 }), /GPU device must be a whole number from 0 to 63, got -1/);
    assert.throws(() => validateGpuOptions({ trtFp16: /** @type {any} */ ('yes') }), /TensorRT FP16 must be true or false/);
  });

  it('TensorRT settings become the ORT_TENSORRT_* environment, with batch profiles for a dynamic batch', () => {
    const off = tensorrtEnv(validateGpuOptions({}));
    assert.strictEqual(off.ORT_TENSORRT_FP16_ENABLE, '0');
    assert.strictEqual(off.ORT_TENSORRT_ENGINE_CACHE_ENABLE, '0');
    assert.strictEqual(off.ORT_TENSORRT_PROFILE_MIN_SHAPES, '');
    const on = tensorrtEnv(validateGpuOptions({ trtFp16: true, trtCacheDir: '/var/cache/trt' }), { input: 'images', maxBatch: 8, chw: [3, 416, 416] });
    assert.deepStrictEqual(on, {
      ORT_TENSORRT_FP16_ENABLE: '1',
      ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
      ORT_TENSORRT_TIMING_CACHE_ENABLE: '1',
      ORT_TENSORRT_CACHE_PATH: '/var/cache/trt',
      ORT_TENSORRT_PROFILE_MIN_SHAPES: 'images:1x3x416x416',
      ORT_TENSORRT_PROFILE_OPT_SHAPES: 'images:8x3x416x416',
      ORT_TENSORRT_PROFILE_MAX_SHAPES: 'images:8x3x416x416',
    });
  });

  it('sessions with other GPU, batch or pool settings are not shared', () => {
    const so = validateSessionOptions({ providers: ['cuda', 'cpu'] });
    const base = sessionKey('/m.onnx', so, true);
    const keys = [
      base,
      sessionKey('/m.onnx', validateSessionOptions({ providers: ['cuda', 'cpu'], gpu: { deviceId: 1 } }), true),
      sessionKey('/m.onnx', validateSessionOptions({ providers: ['cuda', 'cpu'], gpu: { trtFp16: true } }), true),
      sessionKey('/m.onnx', so, true, { dynamicBatch: true }),
      sessionKey('/m.onnx', so, true, { sessions: 2 }),
    ];
    assert.strictEqual(new Set(keys).size, keys.length);
  });
});
