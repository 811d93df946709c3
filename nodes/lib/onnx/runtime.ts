/**
 * Where ONNX Runtime comes from, whether this machine can run it, and which execution providers it
 * can load — asked of the file system before ONNX Runtime is, so that a CPU-only machine never sees
 * ONNX Runtime's own "Failed to load library …providers_shared.so" lines.
 *
 * The package carries the binding in vendor/onnxruntime-node (scripts/vendor-onnxruntime.js: the
 * registry's onnxruntime-node without the install script that downloads CUDA libraries). A plain
 * `onnxruntime-node` that the user installed is used only when there is no vendored copy.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { OrtModuleLike, ProviderAvailability } from './session';

export interface OrtRuntime {
  /** The folder whose package.json is onnxruntime-node's. */
  dir: string;
  version: string;
  /** Where the native binding and libonnxruntime live for this platform; provider libraries go here too. */
  binDir: string;
  source: 'vendored' | 'onnxruntime-node';
}

export type Libc = 'glibc' | 'musl' | 'none';

/** The C library of this Linux system ('none' elsewhere). `header` is process.report's header. */
export function libcOf(platform: string, header: { glibcVersionRuntime?: string } | undefined): Libc {
  if (platform !== 'linux') return 'none';
  return header && header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** Platforms onnxruntime-node ships binaries for (bin/napi-v6/<platform>/<arch>). */
const BUILDS = ['linux/x64', 'linux/arm64', 'darwin/arm64', 'win32/x64', 'win32/arm64'];

/**
 * Why this machine cannot run ONNX Runtime's prebuilt binaries, in one line a status can show, or
 * null when it can.
 */
export function unsupportedReason(platform: string, arch: string, libc: Libc): string | null {
  if (libc === 'musl') {
    return 'ONNX Runtime has no build for musl (Alpine) Linux: use a Debian-based image such as nodered/node-red:latest-debian (see the README, "Containers")';
  }
  if (!BUILDS.includes(`${platform}/${arch}`)) {
    const hint = platform === 'linux' && arch === 'arm' ? ': use a 64-bit OS (e.g. Raspberry Pi OS 64-bit)' : '';
    return `ONNX Runtime has no build for ${platform}/${arch} (it has ${BUILDS.join(', ')})${hint}`;
  }
  return null;
}

function packageRootAbove(dir: string): string | undefined {
  for (let d = dir, i = 0; i < 6; i++, d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'models', 'manifest.json'))) return d;
  }
  return undefined;
}

/** The ONNX Runtime binding this package will load; throws with what to do when there is none. */
export function findOrtRuntime(platform = process.platform, arch = process.arch): OrtRuntime {
  const report = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const why = unsupportedReason(platform, arch, libcOf(platform, report));
  if (why) throw new Error(why);
  const candidates: { dir: string; source: OrtRuntime['source'] }[] = [];
  const root = packageRootAbove(__dirname);
  if (root) candidates.push({ dir: path.join(root, 'vendor', 'onnxruntime-node'), source: 'vendored' });
  try {
    candidates.push({ dir: path.dirname(require.resolve('onnxruntime-node/package.json')), source: 'onnxruntime-node' });
  } catch {
    /* not installed: the vendored copy or nothing */
  }
  for (const c of candidates) {
    const binDir = path.join(c.dir, 'bin', 'napi-v6', platform, arch);
    if (!fs.existsSync(path.join(binDir, 'onnxruntime_binding.node'))) continue;
    const version = String(JSON.parse(fs.readFileSync(path.join(c.dir, 'package.json'), 'utf8')).version);
    return { dir: c.dir, version, binDir, source: c.source };
  }
  throw new Error(
    'ONNX Runtime is missing from this install (no vendor/onnxruntime-node): reinstall the package, or in a git checkout run "npm run vendor-onnxruntime"',
  );
}

/** The onnxruntime-node module of `rt`. */
export function loadOrt(rt: OrtRuntime = findOrtRuntime()): OrtModuleLike {
  return require(rt.dir) as OrtModuleLike;
}

function libName(platform: string, what: string): string {
  return platform === 'win32' ? `onnxruntime_providers_${what}.dll` : `libonnxruntime_providers_${what}.so`;
}

/**
 * Which providers the binding in `binDir` can load, from the files present: CUDA needs
 * providers_shared + providers_cuda beside libonnxruntime, TensorRT also providers_tensorrt. The
 * CUDA and cuDNN runtimes themselves are found (or not) by ONNX Runtime when it loads them.
 */
export function probeProviders(binDir: string, platform = process.platform, exists: (f: string) => boolean = fs.existsSync): ProviderAvailability {
  const out: ProviderAvailability = { cpu: null, cuda: null, tensorrt: null };
  for (const p of ['cuda', 'tensorrt'] as const) {
    if (platform === 'darwin') {
      out[p] = `${p} is not available on macOS`;
      continue;
    }
    const missing = [libName(platform, 'shared'), libName(platform, 'cuda'), ...(p === 'tensorrt' ? [libName(platform, 'tensorrt')] : [])].filter(
      (f) => !exists(path.join(binDir, f)),
    );
    if (missing.length) out[p] = `${p} provider libraries are not installed (${missing.join(', ')} in ${binDir}); see the README, "GPU gateways"`;
  }
  return out;
}
