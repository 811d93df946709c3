/**
 * `edgevision bench detect`: where the time of one detection goes, on decoded frames of a real source.
 *   (a) session.run alone on a prepared tensor, back to back: the floor set by the model and ONNX Runtime
 *   (b) preprocessing alone: our letterbox (WebAssembly SIMD; its JS fallback; sharp resize + our CHW
 *       packing), side by side
 *   (c) decode + NMS + mapping + filters alone on saved model outputs
 *   (d) the full detect path as vision-detect runs it (DetectScheduler: the next frame is letterboxed
 *       while the session, in its worker thread, infers the current one), frames back to back
 * and the ratio d/a: how much our code adds on top of the model. Also one frame at a time (latency:
 * (a1) a single session.run, (d1) prepare → infer → finish with nothing overlapping).
 *
 * Each measurement runs twice, with ONNX Runtime's idle threads spinning (its own default) and
 * without (ours): spinning threads keep every core busy for the whole run, so nothing else on a
 * small gateway (our letterbox, ffmpeg, the other flows) gets a core while a model runs.
 */
import * as os from 'os';
import { parseArgs, numArg, strArg } from '../args';
import { acquireModel, releaseModel, LoadedModel } from '../../nodes/lib/model/loader';
import { parseProviders } from '../../nodes/lib/onnx/session';
import { Detector } from '../../nodes/lib/detect/detector';
import { DetectScheduler } from '../../nodes/lib/detect/scheduler';
import { OutputTensor } from '../../nodes/lib/detect/decode';
import { LetterboxParams, SourceImage, letterboxInto, letterboxParams, packResizedInto } from '../../nodes/lib/detect/letterbox';
import { letterboxAuto, wasmLetterbox } from '../../nodes/lib/detect/letterbox-wasm';
import { sourceFrames } from '../commands/detect';

export const usage = `usage: edgevision bench detect --model M --source V [options]

  --model M        an .onnx file or a manifest name (yolox_nano)
  --source V       a video or image file
  --frames N       frames to decode and measure (default 60)
  --rounds R       passes over the frames per measurement (default 5)
  --threads N      ONNX Runtime intra-op threads (default 0 = one per core)
  --providers LIST execution providers in order (default cpu)
  --spin only|off  measure only with spinning threads, or only without (default: both)
  --in-process     run the session on the JS thread instead of a worker thread (the default)
`;

interface Stat {
  mean: number;
  median: number;
  p90: number;
}

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, median: at(0.5), p90: at(0.9) };
}

const f2 = (v: number) => v.toFixed(2).padStart(7);
const line = (name: string, s: Stat) => `${name.padEnd(52)} mean ${f2(s.mean)} ms  median ${f2(s.median)} ms  p90 ${f2(s.p90)} ms`;

/** Runs `frames` through the scheduler back to back, as vision-detect does when frames wait. */
function schedulerStream(detector: Detector, frames: readonly SourceImage[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let left = frames.length;
    const t0 = performance.now();
    const s = new DetectScheduler<number>(detector, {
      take: () => (next < frames.length ? { jobs: [next], frames: [frames[next++]] } : null),
      deliver: () => {
        if (--left === 0) resolve(performance.now() - t0);
        else s.kick();
      },
      fail: (_jobs, e) => reject(e),
    });
    s.kick();
  });
}

interface Figures {
  a: Stat; // per frame, back to back (throughput), one value per round
  a1: Stat; // single calls (latency)
  d: Stat;
  d1: Stat;
}

/**
 * (a) and (d) as streams of `chunk` frames, alternating chunk by chunk so that the machine's drift
 * (a shared VM's neighbours, thermal state) hits both alike; (a1) and (d1) one frame at a time.
 */
async function measureSession(loaded: LoadedModel, frames: readonly SourceImage[], rounds: number, chunk = 15): Promise<Figures> {
  const spec = loaded.spec;
  const detector = new Detector(loaded.session.runner, spec);
  const dims = [1, 3, spec.inputHeight, spec.inputWidth];
  for (let i = 0; i < 5; i++) await detector.detect([frames[i % frames.length]]);
  const a: number[] = [],
    a1: number[] = [],
    d: number[] = [],
    d1: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let from = 0; from < frames.length; from += chunk) {
      const part = frames.slice(from, from + chunk);
      const prepared = detector.prepare([part[0]]);
      const t0 = performance.now();
      for (let i = 0; i < part.length; i++) await loaded.session.runner.run(prepared.tensor, dims);
      a.push((performance.now() - t0) / part.length);
      detector.release(prepared);
      d.push((await schedulerStream(detector, part)) / part.length);
    }
  }
  for (const f of frames) {
    const p = detector.prepare([f]);
    let t0 = performance.now();
    await loaded.session.runner.run(p.tensor, dims);
    a1.push(performance.now() - t0);
    detector.release(p);
    t0 = performance.now();
    await detector.detect([f]);
    d1.push(performance.now() - t0);
  }
  return { a: stat(a), a1: stat(a1), d: stat(d), d1: stat(d1) };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['in-process']);
  const model = strArg(args, 'model');
  const source = strArg(args, 'source');
  const spinArg = strArg(args, 'spin');
  if (!model || !source || (spinArg !== undefined && spinArg !== 'only' && spinArg !== 'off')) {
    console.error(usage);
    return 2;
  }
  const nFrames = numArg(args, 'frames', 60);
  const rounds = numArg(args, 'rounds', 5);
  const threads = numArg(args, 'threads', 0);
  const providers = parseProviders(strArg(args, 'providers') ?? 'cpu');
  const user = `bench-detect-${process.pid}`;
  const load0 = os.loadavg();
  const inWorker = !args['in-process'];
  const modes = spinArg === 'only' ? [true] : spinArg === 'off' ? [false] : [false, true];

  const frames: SourceImage[] = [];
  for await (const { image } of sourceFrames(source, { maxFrames: nFrames })) {
    // Copy: the decoder may reuse its buffer.
    frames.push({ ...image, data: Uint8Array.from(image.data) });
    if (frames.length >= nFrames) break;
  }
  if (!frames.length) throw new Error(`no frames decoded from ${source}`);
  const { width, height } = frames[0];

  const figures = new Map<boolean, Figures>();
  let post: Stat | undefined, pre: Stat | undefined, preJs: Stat | undefined, preSharp: Stat | undefined, preNearest: Stat | undefined;
  let wasm = false;
  for (const spinWait of modes) {
    const loaded = await acquireModel({ model, providers, intraOpNumThreads: threads, spinWait, inWorker }, user);
    try {
      const spec = loaded.spec;
      if (!pre) {
        console.log(
          `model ${model}: ${spec.format} ${spec.inputWidth}×${spec.inputHeight}, provider ${loaded.providerText}, threads ${threads || 'auto'}, session ${inWorker ? 'in a worker thread' : 'on the JS thread'}`,
        );
        console.log(
          `source ${source}: ${frames.length} frames ${width}×${height}; ${rounds} rounds; ${os.cpus().length} cores, load average before ${load0.map((l) => l.toFixed(2)).join(' ')}`,
        );
        ({ pre, preJs, preSharp, preNearest, post, wasm } = await measureStages(loaded, frames, rounds));
      }
      figures.set(spinWait, await measureSession(loaded, frames, rounds));
    } finally {
      await releaseModel(loaded.key, user);
    }
  }

  const impl = wasm ? 'WebAssembly SIMD' : 'JS loops (no WebAssembly SIMD here)';
  console.log(line(`(b) preprocessing, letterbox in use: ${wasm ? 'WebAssembly' : 'JS'}`, pre!));
  if (wasm) console.log(line('(b1) preprocessing, letterbox JS loops', preJs!));
  console.log(line("(b') preprocessing, sharp resize + CHW packing", preSharp!));
  console.log(line('(b") preprocessing, nearest (same kernel)', preNearest!));
  console.log(line('(c) decode + NMS + map back + filters', post!));
  console.log(
    `letterbox ${impl} vs sharp: ${(preSharp!.median / pre!.median).toFixed(2)}× faster${wasm ? `; vs the JS loops: ${(preJs!.median / pre!.median).toFixed(2)}× faster` : ''} (medians)`,
  );
  for (const [spinWait, f] of figures) {
    console.log(`\nsession threads ${spinWait ? 'spinning (ONNX Runtime default, --spin only)' : 'not spinning (our default)'}:`);
    console.log(line('(a) session.run, back to back (per frame, by chunk)', f.a));
    console.log(line('(d) full detect path, back to back (per frame, by chunk)', f.d));
    console.log(line('(a1) one session.run alone (latency)', f.a1));
    console.log(line('(d1) one frame alone, nothing overlapping', f.d1));
    console.log(`ratio d/a: median ${(f.d.median / f.a.median).toFixed(3)} (target ≤ 1.10); latency d1/a1: median ${(f.d1.median / f.a1.median).toFixed(3)}`);
  }
  if (figures.size === 2) {
    const off = figures.get(false)!,
      on = figures.get(true)!;
    console.log(
      `\nfull path per frame, not spinning / spinning: ${(off.d.median / on.d.median).toFixed(3)}; against the fastest bare model (spinning, back to back): ${(off.d.median / on.a.median).toFixed(3)}`,
    );
  }
  console.log(
    `load average after ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  return 0;
}

/** (b) preprocessing variants and (c) postprocessing, which do not depend on the session's threads. */
async function measureStages(
  loaded: LoadedModel,
  frames: readonly SourceImage[],
  rounds: number,
): Promise<{ pre: Stat; preJs: Stat; preSharp: Stat; preNearest: Stat; post: Stat; wasm: boolean }> {
  const spec = loaded.spec;
  const detector = new Detector(loaded.session.runner, spec);
  const tensor = new Float32Array(3 * spec.inputWidth * spec.inputHeight);
  const dims = [1, 3, spec.inputHeight, spec.inputWidth];
  for (let i = 0; i < 5; i++) letterboxInto(frames[i % frames.length], spec.inputWidth, spec.inputHeight, spec.preprocess, tensor);
  const wasm = wasmLetterbox();
  const pre: number[] = [],
    preJs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) {
      let t0 = performance.now();
      letterboxInto(f, spec.inputWidth, spec.inputHeight, spec.preprocess, tensor);
      preJs.push(performance.now() - t0);
      if (wasm) {
        t0 = performance.now();
        wasm.letterboxInto(f, spec.inputWidth, spec.inputHeight, spec.preprocess, tensor);
        pre.push(performance.now() - t0);
      }
    }
  }

  const sharp = require('sharp');
  sharp.concurrency(1);
  const preSharp: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) {
      const t0 = performance.now();
      const p: LetterboxParams = letterboxParams(f.width, f.height, spec.inputWidth, spec.inputHeight, spec.preprocess.align);
      const resized: Buffer = await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
        .resize(p.innerWidth, p.innerHeight, { kernel: 'linear', fit: 'fill' })
        .raw()
        .toBuffer();
      packResizedInto(resized, p, f.format, spec.preprocess, tensor);
      preSharp.push(performance.now() - t0);
    }
  }
  const nearestOpts = { ...spec.preprocess, interpolation: 'nearest' as const };
  const preNearest: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) {
      const t0 = performance.now();
      letterboxAuto(f, spec.inputWidth, spec.inputHeight, nearestOpts, tensor);
      preNearest.push(performance.now() - t0);
    }
  }
  // Save one output per frame for (c).
  const outputs: { out: OutputTensor; params: LetterboxParams[] }[] = [];
  for (const f of frames) {
    const p = detector.prepare([f]);
    const res = await loaded.session.runner.run(p.tensor, dims);
    detector.release(p);
    const o = res[spec.outputName] ?? Object.values(res)[0];
    outputs.push({ out: { data: Float32Array.from(o.data), dims: o.dims }, params: p.params });
  }
  const post: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const o of outputs) {
      const t0 = performance.now();
      detector.finish(o.out, o.params);
      post.push(performance.now() - t0);
    }
  }
  return { pre: stat(wasm ? pre : preJs), preJs: stat(preJs), preSharp: stat(preSharp), preNearest: stat(preNearest), post: stat(post), wasm: !!wasm };
}
