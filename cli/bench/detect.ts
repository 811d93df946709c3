/**
 * `edgevision bench detect`: where the time of one detection goes, on decoded frames of a real source.
 *   (a) session.run alone on a prepared tensor   — the floor set by the model and ONNX Runtime
 *   (b) preprocessing alone: our letterbox loops, and sharp resize + our CHW packing, side by side
 *   (c) decode + NMS + mapping + filters alone on saved model outputs
 *   (d) the full detect path (b + a + c) as vision-detect runs it, one frame after another
 *   (e) an overlap probe: the next frame letterboxed while session.run is pending. With the session
 *       in a worker thread (the default) the two can overlap where a core is free; on the JS thread
 *       (--in-process: onnxruntime-node runs inference synchronously there) they cannot.
 * and the ratio d/a: how much our code adds on top of the model.
 */
import * as os from 'os';
import { parseArgs, numArg, strArg } from '../args';
import { acquireModel, releaseModel } from '../../nodes/model/loader';
import { parseProviders } from '../../nodes/lib/onnx/session';
import { Detector } from '../../nodes/lib/detect/detector';
import { OutputTensor } from '../../nodes/lib/detect/decode';
import { LetterboxParams, SourceImage, letterboxInto, letterboxParams, packResizedInto } from '../../nodes/lib/detect/letterbox';
import { sourceFrames } from '../commands/detect';

export const usage = `usage: edgevision bench detect --model M --source V [options]

  --model M        an .onnx file or a manifest name (yolox_nano)
  --source V       a video or image file
  --frames N       frames to decode and measure (default 60)
  --rounds R       passes over the frames per measurement (default 3)
  --threads N      ONNX Runtime intra-op threads (default 0 = one per core)
  --providers LIST execution providers in order (default cpu)
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
const line = (name: string, s: Stat) => `${name.padEnd(46)} mean ${f2(s.mean)} ms  median ${f2(s.median)} ms  p90 ${f2(s.p90)} ms`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['in-process']);
  const model = strArg(args, 'model');
  const source = strArg(args, 'source');
  if (!model || !source) {
    console.error(usage);
    return 2;
  }
  const nFrames = numArg(args, 'frames', 60);
  const rounds = numArg(args, 'rounds', 3);
  const user = `bench-detect-${process.pid}`;
  const load0 = os.loadavg();
  const inWorker = !args['in-process'];
  const loaded = await acquireModel({ model, providers: parseProviders(strArg(args, 'providers') ?? 'cpu'), intraOpNumThreads: numArg(args, 'threads', 0), inWorker }, user);
  try {
    const spec = loaded.spec;
    const detector = new Detector(loaded.session.runner, spec);
    const frames: SourceImage[] = [];
    for await (const { image } of sourceFrames(source, { maxFrames: nFrames })) {
      // Copy: the decoder may reuse its buffer.
      frames.push({ ...image, data: Uint8Array.from(image.data) });
      if (frames.length >= nFrames) break;
    }
    if (!frames.length) throw new Error(`no frames decoded from ${source}`);
    const { width, height } = frames[0];
    console.log(`model ${model}: ${spec.format} ${spec.inputWidth}×${spec.inputHeight}, provider ${loaded.providerText}, threads ${numArg(args, 'threads', 0) || 'auto'}, session ${inWorker ? 'in a worker thread' : 'on the JS thread'}`);
    console.log(`source ${source}: ${frames.length} frames ${width}×${height}; ${rounds} rounds; ${os.cpus().length} cores, load average before ${load0.map((l) => l.toFixed(2)).join(' ')}`);

    const per = 3 * spec.inputWidth * spec.inputHeight;
    const tensor = new Float32Array(per);
    const dims = [1, 3, spec.inputHeight, spec.inputWidth];
    // Warm-up: the first runs allocate and pick kernels.
    for (let i = 0; i < 5; i++) await detector.detect([frames[i % frames.length]]);

    // (b) preprocessing: our loops, then sharp + packing.
    const pre: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const f of frames) {
        const t0 = performance.now();
        letterboxInto(f, spec.inputWidth, spec.inputHeight, spec.preprocess, tensor);
        pre.push(performance.now() - t0);
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-var-requires
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
        letterboxInto(f, spec.inputWidth, spec.inputHeight, nearestOpts, tensor);
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

    // (c) decode + NMS + mapping + filters.
    const post: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const o of outputs) {
        const t0 = performance.now();
        detector.finish(o.out, o.params);
        post.push(performance.now() - t0);
      }
    }

    // (a) and (d) alternate frame by frame, so that load from other processes hits both alike.
    // (a) is session.run alone on the frame's prepared tensor; (d) the whole detect path.
    const runs: number[] = [];
    const full: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const f of frames) {
        const p = detector.prepare([f]);
        let t0 = performance.now();
        await loaded.session.runner.run(p.tensor, dims);
        runs.push(performance.now() - t0);
        detector.release(p);
        t0 = performance.now();
        await detector.detect([f]);
        full.push(performance.now() - t0);
      }
    }

    // (e) overlap probe: the next frame is letterboxed while session.run is pending. Per frame =
    // wall / frames, against a stream of bare session.run calls measured right before it.
    let pipeTotal = 0;
    let bareTotal = 0;
    for (let r = 0; r < rounds; r++) {
      const prepared = detector.prepare([frames[0]]);
      let t0 = performance.now();
      for (let i = 0; i < frames.length; i++) await loaded.session.runner.run(prepared.tensor, dims);
      bareTotal += performance.now() - t0;
      detector.release(prepared);
      t0 = performance.now();
      let cur = detector.prepare([frames[0]]);
      for (let i = 0; i < frames.length; i++) {
        const running = detector.infer(cur);
        const next = i + 1 < frames.length ? detector.prepare([frames[i + 1]]) : undefined;
        detector.finish(await running, cur.params);
        if (next) cur = next;
      }
      pipeTotal += performance.now() - t0;
    }
    const pipePerFrame = pipeTotal / (rounds * frames.length);
    const barePerFrame = bareTotal / (rounds * frames.length);

    const a = stat(runs), b = stat(pre), bs = stat(preSharp), bn = stat(preNearest), c = stat(post), d = stat(full);
    console.log(line('(a) session.run on a prepared tensor', a));
    console.log(line('(b) preprocessing, letterbox loops (in use)', b));
    console.log(line('(b\') preprocessing, sharp resize + CHW packing', bs));
    console.log(line('(b") preprocessing, letterbox loops, nearest', bn));
    console.log(line('(c) decode + NMS + map back + filters', c));
    console.log(line('(d) full detect path', d));
    console.log(`letterbox loops vs sharp: ${(bs.mean / b.mean).toFixed(2)}× (${b.mean <= bs.mean ? 'loops faster' : 'sharp faster'})`);
    console.log(`ratio d/a: mean ${(d.mean / a.mean).toFixed(3)}  median ${(d.median / a.median).toFixed(3)}  (target ≤ 1.10)`);
    console.log(`(e) overlap probe: ${pipePerFrame.toFixed(2)} ms per frame vs bare session.run stream ${barePerFrame.toFixed(2)} ms; ratio ${(pipePerFrame / barePerFrame).toFixed(3)} `);
    console.log(`load average after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    return 0;
  } finally {
    await releaseModel(loaded.key, user);
  }
}
