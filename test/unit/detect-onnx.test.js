'use strict';
const assert = require('assert');
const fs = require('fs');
const { loadOrt } = require('../../dist/nodes/lib/onnx/runtime');
const { createSession, parseProviders, validateSessionOptions, describeAttempts } = require('../../dist/nodes/lib/onnx/session');
// The binding the package itself loads (vendor/onnxruntime-node), not a separately installed one.
const ort = loadOrt();
const { SharedRegistry } = require('../../dist/nodes/lib/onnx/registry');
const { createWorkerSession } = require('../../dist/nodes/lib/onnx/worker-session');
const { readOnnxMetadata, classNamesFromMetadata } = require('../../dist/nodes/lib/onnx/metadata');
const { asset } = require('../helpers/assets');

// Protobuf by hand: tag = field << 3 | wire; strings are length-delimited.
function varint(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const ld = (field, bytes) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const str = (s) => [...Buffer.from(s, 'utf8')];
const entry = (k, v) => ld(14, [...ld(1, str(k)), ...ld(2, str(v))]);

/**
 * An ONNX Runtime that fails to create a session on the providers named in `failures`.
 * @param {Record<string, string>} failures
 * @returns {import('../../dist/nodes/lib/onnx/session').OrtModuleLike & { created: object[] }}
 */
function fakeOrt(failures) {
  const created = [];
  return {
    created,
    Tensor: class Tensor {
      constructor(type, data, dims) {
        Object.assign(this, { type, data, dims });
      }
    },
    InferenceSession: {
      async create(bytes, /** @type {{ executionProviders: (string | { name: string, deviceId?: number })[] }} */ opts) {
        // GPU providers come as { name, deviceId } (the device is their one option in onnxruntime-node).
        const e = opts.executionProviders[0];
        const p = typeof e === 'string' ? e : e.name;
        if (failures[p]) throw new Error(failures[p]);
        created.push(opts);
        return {
          inputNames: ['in'],
          outputNames: ['out'],
          inputMetadata: [{ type: 'float32', shape: [1, 3, 8, 8] }],
          outputMetadata: [{ type: 'float32', shape: [1, 2] }],
          run: async () => ({}),
          release: async () => {},
        };
      },
    },
  };
}

describe('detect ONNX sessions', () => {
  it('tries providers in order and falls back to the CPU, saying why', async () => {
    const f = fakeOrt({ cuda: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', tensorrt: 'something else\nsecond line' });
    const { runner, attempts } = await createSession(f, new Uint8Array([]), { providers: ['cuda', 'tensorrt', 'cpu'], intraOpNumThreads: 2 });
    assert.strictEqual(runner.provider, 'cpu');
    assert.deepStrictEqual(
      attempts.map((a) => a.provider),
      ['cuda', 'tensorrt', 'cpu'],
    );
    assert.match(attempts[0].error, /cuda provider libraries are not installed/);
    assert.strictEqual(attempts[1].error, 'something else');
    assert.strictEqual(attempts[2].error, undefined);
    assert.strictEqual(f.created[0].intraOpNumThreads, 2);
    assert.deepStrictEqual(runner.inputs[0].shape, [1, 3, 8, 8]);
    assert.match(describeAttempts(attempts), /^cpu \(fell back: cuda: .*; tensorrt: something else\)$/);
  });

  it('fails with every reason when no provider can load the model', async () => {
    const f = fakeOrt({ cpu: 'protobuf parsing failed' });
    await assert.rejects(
      createSession(f, new Uint8Array([]), { providers: ['cpu'] }),
      /no execution provider could load the model \(cpu: protobuf parsing failed\)/,
    );
  });

  it('validates options', () => {
    assert.throws(() => validateSessionOptions({ providers: [/** @type {any} */ ('gpu')] }), /unknown execution provider "gpu"/);
    assert.throws(() => validateSessionOptions({ providers: [] }), /non-empty/);
    assert.throws(() => validateSessionOptions({ intraOpNumThreads: -1 }), /intraOpNumThreads/);
    assert.deepStrictEqual(parseProviders('CUDA, tensorrt > cpu'), ['cuda', 'tensorrt', 'cpu']);
  });

  it('idle ONNX Runtime threads do not spin unless spinWait is set (the session config keys it sets)', async () => {
    const spinning = (o) => [o.extra.session.intra_op.allow_spinning, o.extra.session.inter_op.allow_spinning];
    const f = fakeOrt({});
    await createSession(f, new Uint8Array([]), {});
    await createSession(f, new Uint8Array([]), { spinWait: true });
    assert.deepStrictEqual(f.created.map(spinning), [
      ['0', '0'],
      ['1', '1'],
    ]);
    assert.throws(() => validateSessionOptions({ spinWait: /** @type {any} */ ('yes') }), /spinWait must be true or false/);
  });

  it('loads the real yolox_nano: cuda is absent here, so it falls back to cpu with the reason', async function () {
    const bytes = fs.readFileSync(asset('models/yolox_nano.onnx'));
    const { runner, attempts } = await createSession(ort, bytes, { providers: ['cuda', 'cpu'], intraOpNumThreads: 1 });
    try {
      // On a machine with the GPU libraries installed cuda would win; either way the order is kept.
      assert.strictEqual(attempts[attempts.length - 1].provider, runner.provider);
      if (runner.provider === 'cpu') assert.match(attempts[0].error, /cuda/);
      assert.deepStrictEqual(runner.inputs[0].shape, [1, 3, 416, 416]);
      assert.deepStrictEqual(runner.outputs[0].shape, [1, 3549, 85]);
      const out = await runner.run(new Float32Array(3 * 416 * 416).fill(114), [1, 3, 416, 416]);
      assert.deepStrictEqual(out.output.dims, [1, 3549, 85]);
    } finally {
      await runner.release();
    }
  });

  it("a corrupt model file is refused with ONNX Runtime's reason", async () => {
    await assert.rejects(createSession(ort, Buffer.from('not a model at all'), { providers: ['cpu'] }), /cpu: .*(protobuf|parsing|Failed)/i);
  });

  describe('worker session', () => {
    const input = new Float32Array(3 * 416 * 416).map((_, i) => (i * 31) % 255);
    it('runs the real model in a worker with the same results, falls back like the in-process one, and keeps the event loop free', async () => {
      const bytes = fs.readFileSync(asset('models/yolox_nano.onnx'));
      const w = await createWorkerSession(bytes, { providers: ['cuda', 'cpu'], intraOpNumThreads: 1 });
      const m = await createSession(ort, bytes, { providers: ['cpu'], intraOpNumThreads: 1 });
      try {
        assert.deepStrictEqual(
          w.attempts.map((a) => a.provider),
          w.runner.provider === 'cpu' ? ['cuda', 'cpu'] : ['cuda'],
        );
        assert.deepStrictEqual(w.runner.inputs, m.runner.inputs);
        assert.deepStrictEqual(w.runner.outputs, m.runner.outputs);
        const a = await w.runner.run(input, [1, 3, 416, 416]);
        const b = await m.runner.run(input, [1, 3, 416, 416]);
        assert.deepStrictEqual(a.output.dims, [1, 3549, 85]);
        assert.ok(a.output.data instanceof Float32Array);
        assert.deepStrictEqual(Array.from(a.output.data.slice(0, 850)), Array.from(b.output.data.slice(0, 850)));
        // Its own input buffers are shared memory (no copy on the way in) and give the same result.
        const shared = w.runner.allocInput(input.length);
        assert.ok(shared.buffer instanceof SharedArrayBuffer);
        shared.set(input);
        const c = await w.runner.run(shared, [1, 3, 416, 416]);
        assert.deepStrictEqual(Array.from(c.output.data.slice(0, 850)), Array.from(b.output.data.slice(0, 850)));
        // Ordering, not timing: a callback queued after run() fires before a worker run resolves,
        // and only after an in-process run (which holds the JS thread for the whole inference).
        const order = async (runner) => {
          const seen = [];
          const p = runner.run(input, [1, 3, 416, 416]).then(() => seen.push('run'));
          setImmediate(() => seen.push('tick'));
          await p;
          await new Promise((r) => setImmediate(r));
          return seen;
        };
        assert.deepStrictEqual(await order(w.runner), ['tick', 'run']);
        assert.deepStrictEqual(await order(m.runner), ['run', 'tick']);
      } finally {
        await w.runner.release();
        await m.runner.release();
      }
      await assert.rejects(w.runner.run(input, [1, 3, 416, 416]), /released/);
    });

    it('reports a corrupt model with the same reason as the in-process session', async () => {
      await assert.rejects(
        createWorkerSession(Buffer.from('not a model'), { providers: ['cpu'] }),
        /no execution provider could load the model \(cpu: .*(protobuf|parsing|Failed)/i,
      );
    });

    it('turns a failing run into a rejected promise, not a dead worker', async () => {
      const w = await createWorkerSession(fs.readFileSync(asset('models/yolox_nano.onnx')), { providers: ['cpu'], intraOpNumThreads: 1 });
      try {
        await assert.rejects(w.runner.run(new Float32Array(10), [1, 3, 416, 416]), /.+/);
        const ok = await w.runner.run(input, [1, 3, 416, 416]);
        assert.deepStrictEqual(ok.output.dims, [1, 3549, 85]);
      } finally {
        await w.runner.release();
      }
    });
  });

  describe('metadata', () => {
    it('reads metadata_props around other top-level fields', () => {
      const bytes = Uint8Array.from([
        ...varint(1 << 3),
        ...varint(8), // ir_version = 8
        ...ld(2, str('pytorch')), // producer_name
        ...ld(7, [1, 2, 3, 4, 5]), // graph (skipped)
        ...entry('names', "{0: 'person', 1: 'fork lift'}"),
        ...entry('stride', '32'),
      ]);
      assert.deepStrictEqual(readOnnxMetadata(bytes), { names: "{0: 'person', 1: 'fork lift'}", stride: '32' });
    });
    it('gives {} for the real yolox_nano (it has none) and for garbage', () => {
      assert.deepStrictEqual(readOnnxMetadata(fs.readFileSync(asset('models/yolox_nano.onnx'))), {});
      assert.deepStrictEqual(readOnnxMetadata(Uint8Array.from([0xff, 0xff, 0xff])), {});
    });
    /** @type {[Record<string, string>, string[] | undefined][]} */
    const forms = [
      [{ names: "{0: 'person', 1: 'car'}" }, ['person', 'car']],
      [{ names: '{"0": "person", "2": "car"}' }, ['person', 'class1', 'car']],
      [{ labels: '["a","b"]' }, ['a', 'b']],
      [{ other: 'x' }, undefined],
    ];
    for (const [meta, want] of forms) it(`class names from ${JSON.stringify(meta)}`, () => assert.deepStrictEqual(classNamesFromMetadata(meta), want));
  });

  describe('SharedRegistry', () => {
    it('creates once for many users and disposes when the last one leaves', async () => {
      const r = new SharedRegistry();
      let made = 0;
      const disposed = [];
      const create = async () => ({ n: ++made });
      const dispose = (v) => {
        disposed.push(v.n);
      };
      const a = await r.acquire('m', 'node1', create, dispose);
      const b = await r.acquire('m', 'node2', create, dispose);
      assert.strictEqual(a, b);
      assert.strictEqual(r.users('m'), 2);
      await r.release('m', 'node1');
      assert.deepStrictEqual(disposed, []);
      await r.release('m', 'node1'); // twice: ignored
      assert.strictEqual(r.users('m'), 1);
      await r.release('m', 'node2');
      assert.deepStrictEqual(disposed, [1]);
      assert.deepStrictEqual(r.keys(), []);
      await r.acquire('m', 'node3', create, () => {});
      assert.strictEqual(made, 2, 'a new user after the last left gets a fresh session');
    });
    it('forgets a failed creation so the next acquire tries again', async () => {
      const r = new SharedRegistry();
      let tries = 0;
      const create = async () => {
        if (++tries === 1) throw new Error('file missing');
        return 'ok';
      };
      await assert.rejects(
        r.acquire('m', 'n', create, () => {}),
        /file missing/,
      );
      await new Promise((res) => setImmediate(res));
      assert.strictEqual(await r.acquire('m', 'n', create, () => {}), 'ok');
    });
  });
});
