/**
 * `edgevision model-batch`: makes an ONNX model whose batch is fixed at 1 batch-capable (the same
 * rewrite vision-model's *Batch* does as it loads, nodes/lib/onnx/batch-model.ts), prints what it
 * changed, writes the result with --out, and with --check runs a batch of N inputs through the
 * rewritten model and each input alone through the original, and fails unless they agree to 1e-4.
 */
import * as fs from 'fs';
import { parseArgs, numArg, strArg } from '../args';
import { makeBatchDynamic, maxAbsDiff } from '../../nodes/lib/onnx/batch-model';
import { createSession } from '../../nodes/lib/onnx/session';
import { loadOrt } from '../../nodes/lib/onnx/runtime';
import { resolveModelFile } from '../../nodes/lib/model/loader';

export const usage = [
  'usage: edgevision model-batch <model.onnx|manifest name> [--out batch.onnx] [--check [--batch N]] [--json]',
  '',
  "  Rewrites the model's batch dimension (input and output) as dynamic and every Reshape that pins",
  '  it at 1; prints what changed and anything that may still pin it.',
  '  --out FILE   write the batch-capable model there (the original is never touched)',
  '  --check      run N inputs (a fixed pseudo-random pattern) as one batch through the rewritten model',
  '               and one by one through the original; exit 1 unless every output agrees to 1e-4',
  '  --batch N    the batch for --check (default 4)',
  '  --json       one JSON object instead of text',
].join('\n');

/** A fixed pseudo-random pattern in 0..255 (the same every run). */
function pattern(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % 256;
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['check', 'json']);
  const name = args._[0];
  if (!name) {
    console.error('edgevision model-batch: name a model\n\n' + usage);
    return 2;
  }
  try {
    const file = resolveModelFile(name);
    const original = fs.readFileSync(file);
    const r = makeBatchDynamic(original);
    const out = strArg(args, 'out');
    if (out) fs.writeFileSync(out, r.bytes);
    let check: { batch: number; maxDiff: number } | undefined;
    if (args.check === true) {
      const batch = numArg(args, 'batch', 4);
      if (!Number.isInteger(batch) || batch < 2) throw new Error(`--batch must be a whole number ≥ 2, got ${batch}`);
      const ort = loadOrt();
      const one = await createSession(ort, original, { intraOpNumThreads: 1 });
      const many = await createSession(ort, r.bytes, { intraOpNumThreads: 1 });
      try {
        const shape = one.runner.inputs[0].shape;
        const rest = shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : NaN));
        if (rest.some((d) => Number.isNaN(d))) throw new Error(`--check needs an input of fixed size after the batch, got [${shape.join(',')}]`);
        const per = rest.reduce((a, b) => a * b, 1);
        const input = new Float32Array(batch * per);
        for (let b = 0; b < batch; b++) input.set(pattern(per, b + 1), b * per);
        const outN = await many.runner.run(input, [batch, ...rest]);
        let worst = 0;
        for (let b = 0; b < batch; b++) {
          const out1 = await one.runner.run(input.slice(b * per, (b + 1) * per), [1, ...rest]);
          for (const [k, t] of Object.entries(out1)) {
            const n = t.data.length;
            worst = Math.max(worst, maxAbsDiff(t.data, outN[k].data.subarray(b * n, (b + 1) * n)));
          }
        }
        check = { batch, maxDiff: worst };
      } finally {
        await one.runner.release();
        await many.runner.release();
      }
    }
    const ok = !check || check.maxDiff <= 1e-4;
    if (args.json === true) {
      console.log(JSON.stringify({ file, out, ...r, bytes: r.bytes.length, check, ok }));
    } else {
      console.log(
        `${file}: ${r.madeDynamic.length ? `made dynamic: ${r.madeDynamic.join(', ')}` : `already dynamic: ${r.alreadyDynamic.join(', ') || 'nothing to change'}`}`,
      );
      for (const x of r.reshapesFixed) console.log(`  reshape follows the batch now: ${x}`);
      for (const x of r.suspects) console.log(`  may still pin the batch: ${x}`);
      if (out) console.log(`written: ${out} (${r.bytes.length} bytes)`);
      if (check)
        console.log(
          `check, batch of ${check.batch} against batch-1 runs of the original: largest difference ${check.maxDiff.toExponential(2)} (${ok ? 'ok' : 'over 1e-4'})`,
        );
    }
    return ok ? 0 : 1;
  } catch (e) {
    console.error(`edgevision model-batch: ${(e as Error).message}`);
    return 1;
  }
}
