/**
 * `edgevision bench batch`: does running several cameras' frames together, or several runs at once,
 * get more frames through the model per second? The same real frames go through yolox_nano in
 * worker sessions as vision-detect runs them: one session, one frame a run (today's default); one
 * session of the model made batch-capable (batch-model.ts), 2 and 4 frames a run; two sessions
 * sharing the cores, one frame a run each, two runs in flight. Frames per second for each, and the
 * ratio to the first, measured in the same run. Also checks that the batched outputs equal the
 * batch-1 outputs (largest difference). Prints figures; asserts nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { parseArgs, numArg, assetsArg } from '../args';
import { makeBatchDynamic, maxAbsDiff } from '../../nodes/lib/onnx/batch-model';
import { createWorkerSession } from '../../nodes/lib/onnx/worker-session';
import { RunnerPool, threadsPerSession } from '../../nodes/lib/onnx/runner-pool';
import { ModelRunner } from '../../nodes/lib/onnx/session';
import { letterboxAuto } from '../../nodes/lib/detect/letterbox-wasm';
import { validatePreprocess } from '../../nodes/lib/detect/letterbox';

export const usage = [
  'usage: edgevision bench batch [--frames N] [--rounds R] [--assets DIR]',
  '',
  '  --frames N  frames per variant and round (default 48)',
  '  --rounds R  rounds, variants interleaved, best round kept (default 2)',
  '  --assets DIR the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)',
].join('\n');

const SIZE = 416;
const PER = 3 * SIZE * SIZE;

interface Variant {
  name: string;
  batch: number;
  runner: ModelRunner;
  inFlight: number;
}

async function loadFrames(assets: string): Promise<Float32Array[]> {
  const dir = path.join(assets, 'images', 'vtest');
  const pre = validatePreprocess({ channelOrder: 'bgr', padValue: 114, align: 'top-left' });
  const out: Float32Array[] = [];
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.jpg'))
    .sort()) {
    const { data, info } = await sharp(path.join(dir, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const t = new Float32Array(PER);
    letterboxAuto({ data: new Uint8Array(data), width: info.width, height: info.height, format: 'rgb24' }, SIZE, SIZE, pre, t, 0);
    out.push(t);
  }
  if (!out.length) throw new Error(`no frames in ${dir}`);
  return out;
}

/** Frames per second through `v` for `total` frames, `inFlight` runs at a time. */
async function measure(v: Variant, frames: Float32Array[], total: number): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  async function lane(): Promise<void> {
    const buf = new Float32Array(v.batch * PER);
    while (next < total) {
      const n = Math.min(v.batch, total - next);
      for (let i = 0; i < v.batch; i++) buf.set(frames[(next + i) % frames.length], i * PER);
      next += n;
      await v.runner.run(v.batch === n ? buf : buf.subarray(0, n * PER), [n, 3, SIZE, SIZE]);
      done += n;
    }
  }
  await Promise.all(Array.from({ length: v.inFlight }, lane));
  return (done * 1000) / (performance.now() - t0);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const total = numArg(args, 'frames', 48);
  const rounds = numArg(args, 'rounds', 2);
  const assets = assetsArg(args);
  const model = fs.readFileSync(path.join(assets, 'models', 'yolox_nano.onnx'));
  const rewritten = makeBatchDynamic(model);
  const frames = await loadFrames(assets);
  const cores = os.cpus().length;
  const one = await createWorkerSession(model, { providers: ['cpu'] });
  const batched = await createWorkerSession(rewritten.bytes, { providers: ['cpu'] });
  const half = threadsPerSession(cores, 2);
  const pool = new RunnerPool([
    (await createWorkerSession(model, { providers: ['cpu'], intraOpNumThreads: half })).runner,
    (await createWorkerSession(model, { providers: ['cpu'], intraOpNumThreads: half })).runner,
  ]);
  const variants: Variant[] = [
    { name: '1 session, 1 frame a run (default)', batch: 1, runner: one.runner, inFlight: 1 },
    { name: '1 session, batch 2 (made dynamic)', batch: 2, runner: batched.runner, inFlight: 1 },
    { name: '1 session, batch 4 (made dynamic)', batch: 4, runner: batched.runner, inFlight: 1 },
    { name: `2 sessions × ${half} threads, 2 in flight`, batch: 1, runner: pool, inFlight: 2 },
  ];
  try {
    // Correctness first: a batch of 4 against four batch-1 runs.
    const four = new Float32Array(4 * PER);
    for (let i = 0; i < 4; i++) four.set(frames[i % frames.length], i * PER);
    const outN = Object.values(await batched.runner.run(four, [4, 3, SIZE, SIZE]))[0];
    const n = outN.data.length / 4;
    let worst = 0;
    for (let i = 0; i < 4; i++) {
      const o1 = Object.values(await one.runner.run(four.slice(i * PER, (i + 1) * PER), [1, 3, SIZE, SIZE]))[0];
      worst = Math.max(worst, maxAbsDiff(o1.data, outN.data.subarray(i * n, (i + 1) * n)));
    }
    console.log(
      `yolox_nano made batch-capable: ${rewritten.madeDynamic.join(', ')} dynamic, ${rewritten.reshapesFixed.length} reshapes follow the batch; batch of 4 vs batch-1 runs: largest difference ${worst.toExponential(2)}`,
    );
    console.log(
      `${cores} CPUs, load ${os
        .loadavg()
        .map((v) => v.toFixed(1))
        .join(' ')}; ${total} frames per variant, ${rounds} rounds (best kept), warm-up run first`,
    );
    for (const v of variants) await measure(v, frames, v.batch * 2);
    const best = variants.map(() => 0);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < variants.length; i++) best[i] = Math.max(best[i], await measure(variants[i], frames, total));
    }
    variants.forEach((v, i) => console.log(`  ${v.name.padEnd(40)} ${best[i].toFixed(1).padStart(7)} frames/s   ×${(best[i] / best[0]).toFixed(2)}`));
  } finally {
    await Promise.all([one.runner.release(), batched.runner.release(), pool.release()]);
  }
  return 0;
}
