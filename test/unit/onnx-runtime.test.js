'use strict';
// Which ONNX Runtime the package loads, whether this machine can run it, and which execution
// providers it can load: decided from the file system before ONNX Runtime is asked.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { libcOf, unsupportedReason, probeProviders, findOrtRuntime, loadOrt } = require('../../dist/nodes/lib/onnx/runtime');
const { planProviders, parseProviders, validateSessionOptions, createSession } = require('../../dist/nodes/lib/onnx/session');
/** @typedef {import('../../dist/nodes/lib/onnx/session').ProviderRequest} ProviderRequest */
/** @typedef {import('../../dist/nodes/lib/onnx/session').ProviderAvailability} ProviderAvailability */

const ROOT = path.join(__dirname, '..', '..');

describe('onnx runtime: where it comes from and what this machine can run', () => {
  it('tells glibc from musl by the C library process.report names', () => {
    assert.strictEqual(libcOf('linux', { glibcVersionRuntime: '2.36' }), 'glibc');
    assert.strictEqual(libcOf('linux', {}), 'musl');
    assert.strictEqual(libcOf('linux', undefined), 'musl');
    assert.strictEqual(libcOf('darwin', {}), 'none');
    assert.strictEqual(
      libcOf('linux', /** @type {{ header: { glibcVersionRuntime?: string } }} */ (process.report.getReport()).header),
      'glibc',
      'this machine is Debian',
    );
  });

  /** @type {[string, string, import('../../dist/nodes/lib/onnx/runtime').Libc, RegExp | null][]} */
  const platforms = [
    ['linux', 'x64', 'glibc', null],
    ['linux', 'arm64', 'glibc', null],
    ['darwin', 'arm64', 'none', null],
    ['win32', 'x64', 'none', null],
    ['linux', 'x64', 'musl', /no build for musl \(Alpine\) Linux: use a Debian-based image such as nodered\/node-red:latest-debian/],
    ['linux', 'arm', 'glibc', /no build for linux\/arm .*use a 64-bit OS/],
    ['darwin', 'x64', 'none', /no build for darwin\/x64/],
  ];
  for (const [platform, arch, libc, re] of platforms) {
    it(`${platform}/${arch} (${libc}): ${re ? 'one clear line saying why not' : 'supported'}`, () => {
      const why = unsupportedReason(platform, arch, libc);
      if (!re) assert.strictEqual(why, null);
      else {
        assert.match(why, re);
        assert.ok(!why.includes('\n'), 'one line for a status');
      }
    });
  }

  it('loads the vendored binding (not a separately installed onnxruntime-node), at the pinned version', () => {
    const rt = findOrtRuntime();
    assert.strictEqual(rt.source, 'vendored');
    assert.strictEqual(rt.dir, path.join(ROOT, 'vendor', 'onnxruntime-node'));
    const pkg = require('../../package.json');
    assert.strictEqual(rt.version, pkg.edgevision.onnxruntime.version);
    assert.strictEqual(pkg.dependencies['onnxruntime-common'], rt.version, 'onnxruntime-common matches the binding');
    assert.ok(!pkg.dependencies['onnxruntime-node'], 'no dependency whose install script downloads CUDA');
    const vendored = JSON.parse(fs.readFileSync(path.join(rt.dir, 'package.json'), 'utf8'));
    assert.strictEqual(vendored.scripts, undefined, 'the vendored copy has no install script');
    assert.ok(!fs.existsSync(path.join(rt.dir, 'script')), 'nor the downloader');
    assert.ok(fs.existsSync(path.join(rt.binDir, 'onnxruntime_binding.node')));
    const ort = loadOrt(rt);
    assert.strictEqual(typeof ort.InferenceSession.create, 'function');
  });

  describe('provider probe', () => {
    const bin = '/x/bin/napi-v6/linux/x64';
    const has =
      (...names) =>
      (f) =>
        names.includes(path.basename(f));
    it('nothing installed: cpu only, and the reason names the files and where', () => {
      const a = probeProviders(bin, 'linux', has());
      assert.strictEqual(a.cpu, null);
      assert.match(
        a.cuda,
        /cuda provider libraries are not installed \(libonnxruntime_providers_shared\.so, libonnxruntime_providers_cuda\.so in \/x\/bin\/napi-v6\/linux\/x64\); see the README, "GPU gateways"/,
      );
      assert.match(a.tensorrt, /libonnxruntime_providers_tensorrt\.so/);
    });
    it('shared + cuda: cuda yes, tensorrt still no', () => {
      const a = probeProviders(bin, 'linux', has('libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'));
      assert.strictEqual(a.cuda, null);
      assert.match(a.tensorrt, /not installed \(libonnxruntime_providers_tensorrt\.so in/);
    });
    it('cuda without providers_shared is not enough (ONNX Runtime loads shared first)', () => {
      assert.match(probeProviders(bin, 'linux', has('libonnxruntime_providers_cuda.so')).cuda, /providers_shared\.so in/);
    });
    it('all three: every provider', () => {
      const a = probeProviders(
        bin,
        'linux',
        has('libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'),
      );
      assert.deepStrictEqual(a, { cpu: null, cuda: null, tensorrt: null });
    });
    it('Windows names its DLLs differently; macOS has no CUDA', () => {
      assert.strictEqual(probeProviders('C:/b', 'win32', has('onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll')).cuda, null);
      assert.match(probeProviders('/b', 'darwin', has()).cuda, /not available on macOS/);
    });
  });

  describe('provider plan', () => {
    /** @type {Partial<ProviderAvailability>} */
    const none = { cuda: 'cuda not installed', tensorrt: 'tensorrt not installed' };
    /** @type {Partial<ProviderAvailability>} */
    const cuda = { cuda: null, tensorrt: 'tensorrt not installed' };
    /** @type {[string, ProviderRequest, Partial<ProviderAvailability>, string[], string[]][]} */
    const table = [
      ['auto, no GPU libraries', 'auto', none, ['cpu'], []],
      ['auto, CUDA installed', 'auto', cuda, ['cuda', 'cpu'], []],
      ['auto never picks tensorrt, even when installed', 'auto', { cuda: null, tensorrt: null }, ['cuda', 'cpu'], []],
      ['a list on a CPU machine: the missing ones are skipped, with their reason', ['tensorrt', 'cuda', 'cpu'], none, ['cpu'], ['tensorrt', 'cuda']],
      ['a list with CUDA installed', ['tensorrt', 'cuda', 'cpu'], cuda, ['cuda', 'cpu'], ['tensorrt']],
      ['cuda alone on a CPU machine: nothing to try', ['cuda'], none, [], ['cuda']],
      ['no probe (a fake runtime in tests): everything is tried', ['cuda', 'cpu'], {}, ['cuda', 'cpu'], []],
    ];
    for (const [what, request, available, order, skipped] of table) {
      it(what, () => {
        const plan = planProviders(request, available);
        assert.deepStrictEqual(plan.order, order);
        assert.deepStrictEqual(
          plan.skipped.map((s) => s.provider),
          skipped,
        );
        for (const s of plan.skipped) {
          assert.strictEqual(s.skipped, true);
          assert.strictEqual(s.error, available[s.provider]);
        }
      });
    }
    it('parses "auto" and validates it', () => {
      assert.strictEqual(parseProviders(' AUTO '), 'auto');
      assert.strictEqual(validateSessionOptions({ providers: 'auto' }).providers, 'auto');
      assert.throws(() => parseProviders('auto,cpu'), /unknown execution provider "auto"; use auto or cuda, tensorrt, cpu/);
    });
    it('a skipped provider is never handed to ONNX Runtime, and is reported', async () => {
      const asked = [];
      /** @type {import('../../dist/nodes/lib/onnx/session').OrtModuleLike} */
      const fake = {
        Tensor: class {},
        InferenceSession: {
          async create(_b, /** @type {{ executionProviders: string[] }} */ o) {
            asked.push(o.executionProviders[0]);
            return { inputNames: ['i'], outputNames: ['o'], run: async () => ({}), release: async () => undefined };
          },
        },
      };
      const { runner, attempts } = await createSession(fake, new Uint8Array(), { providers: ['cuda', 'cpu'], available: none });
      assert.deepStrictEqual(asked, ['cpu']);
      assert.strictEqual(runner.provider, 'cpu');
      assert.deepStrictEqual(attempts, [{ provider: 'cuda', error: 'cuda not installed', skipped: true }, { provider: 'cpu' }]);
      await assert.rejects(
        createSession(fake, new Uint8Array(), { providers: ['cuda'], available: none }),
        /no execution provider could load the model \(cuda: cuda not installed\)/,
      );
      assert.deepStrictEqual(asked, ['cpu'], 'still only the one cpu attempt');
    });
  });
});
