/**
 * `edgevision providers`: which ONNX Runtime this install loads and which execution providers this
 * machine can use; `--install-from DIR` copies GPU provider libraries in beside the runtime.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, strArg } from '../args';
import { findOrtRuntime, probeProviders } from '../../nodes/lib/onnx/runtime';

export const usage = [
  'usage: edgevision providers [--install-from DIR] [--json]',
  '',
  '  Prints the ONNX Runtime binding this install loads (folder, version) and, per execution',
  '  provider, whether this machine has its libraries (and what is missing).',
  '  --install-from DIR  copy libonnxruntime_providers_{shared,cuda,tensorrt}.so (Windows: the .dll)',
  "                      from DIR into the runtime's folder. They must come from an ONNX Runtime GPU",
  '                      build of the same version. A package update replaces that folder: run it again.',
  '  --json              one JSON object instead of text',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const rt = findOrtRuntime();
  const from = strArg(args, 'install-from');
  if (from) {
    const libs = fs.existsSync(from) ? fs.readdirSync(from).filter((f) => /^(lib)?onnxruntime_providers_\w+\.(so|dll)$/.test(f)) : [];
    if (!libs.length) {
      console.error(`no onnxruntime_providers_* libraries in ${from}`);
      return 1;
    }
    for (const f of libs) {
      fs.copyFileSync(path.join(from, f), path.join(rt.binDir, f));
      console.log(`copied ${f} → ${rt.binDir}`);
    }
  }
  const available = probeProviders(rt.binDir);
  if (args.json === true) {
    console.log(JSON.stringify({ runtime: rt, providers: available }));
    return 0;
  }
  console.log(`ONNX Runtime ${rt.version} (${rt.source}) in ${rt.dir}`);
  for (const [p, why] of Object.entries(available)) console.log(`  ${p.padEnd(9)} ${why === null ? 'available' : why}`);
  console.log(`providers "auto" uses: ${available.cuda === null ? 'cuda, then cpu' : 'cpu'}`);
  return 0;
}
