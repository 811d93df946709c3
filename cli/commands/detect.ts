/**
 * `edgevision detect`: runs a detection model on images and videos and prints the detections, one
 * line per image or frame, in source pixels. The same loader and Detector as the vision-detect node.
 */
import * as path from 'path';
import { assetArg, parseArgs, numArg, strArg } from '../args';
import { acquireModel, releaseModel } from '../../nodes/lib/model/loader';
import { parseProviders } from '../../nodes/lib/onnx/session';
import { Detector } from '../../nodes/lib/detect/detector';
import { DEFAULT_CONF, FilterOptions } from '../../nodes/lib/detect/filters';
import { DEFAULT_IOU } from '../../nodes/lib/detect/nms';
import { OutputFormat } from '../../nodes/lib/detect/decode';
import { SourceImage } from '../../nodes/lib/detect/letterbox';

export const usage = `usage: edgevision detect --model <onnx|manifest name> [options] <image-or-video>...

Prints one line per image or video frame with the detections in source pixels.

  --model M          an .onnx file or a manifest name (yolox_nano)
  --user-dir DIR     where fetch-assets put the manifest models: DIR/edgevision (default ~/.node-red)
  --labels FILE      class names, one a line (default: manifest, then model metadata)
  --format F         auto (default), yolox, yolov5, yolov8, end2end
  --conf S           minimum score (default 0.5)
  --iou T            NMS IoU threshold (default 0.45)
  --classes A,B      keep only these labels (default: all)
  --providers LIST   auto (default: what this machine has) or providers in order, e.g. cuda,cpu
  --threads N        ONNX Runtime intra-op threads (default 0 = one per core)
  --fps N            videos: sample at most N frames per second (default: every frame)
  --max-frames N     videos: stop after N frames
  --json             JSON lines: {"source","frame","detections":[{"box":[x1,y1,x2,y2],"score","label"}]}
`;

const IMAGE = /\.(jpe?g|png|webp|bmp|tiff?|gif|avif)$/i;

export async function decodeImage(file: string): Promise<SourceImage> {
  // Loaded here, not at the top: sharp is only needed when an image is named.

  const { decodeToRgb } = require('../../nodes/lib/detect/image-decode') as typeof import('../../nodes/lib/detect/image-decode');
  return decodeToRgb(file);
}

/** Frames of an image (one) or a video (many), decoded to rgb24. */
export async function* sourceFrames(source: string, opts: { fps?: number; maxFrames?: number } = {}): AsyncGenerator<{ index: number; image: SourceImage }> {
  if (IMAGE.test(source)) {
    yield { index: 0, image: await decodeImage(source) };
    return;
  }

  const { readFrames } = require('../../nodes/lib/video/ffmpeg-source');
  for await (const f of readFrames({ url: source, fps: opts.fps, realtime: false, loop: false, maxFrames: opts.maxFrames })) {
    yield { index: f.index, image: { data: f.data, width: f.width, height: f.height, format: 'rgb24' } };
  }
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const modelArg = strArg(args, 'model');
  if (!modelArg || args._.length === 0) {
    console.error(usage);
    return 2;
  }
  const model = assetArg(modelArg, args);
  const filters: FilterOptions = { conf: numArg(args, 'conf', DEFAULT_CONF) };
  const classes = strArg(args, 'classes');
  if (classes)
    filters.classes = classes
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s);
  const user = `cli-detect-${process.pid}`;
  const loaded = await acquireModel(
    {
      model,
      labels: strArg(args, 'labels'),
      format: (strArg(args, 'format') as OutputFormat | 'auto' | undefined) ?? 'auto',
      providers: parseProviders(strArg(args, 'providers') ?? 'auto'),
      intraOpNumThreads: numArg(args, 'threads', 0),
    },
    user,
  );
  try {
    if (!args.json)
      console.error(
        `model ${path.basename(loaded.file)}: ${loaded.spec.format} ${loaded.spec.inputWidth}×${loaded.spec.inputHeight}, provider ${loaded.providerText}`,
      );
    const detector = new Detector(loaded.session.runner, loaded.spec, { filters, nms: { iouThreshold: numArg(args, 'iou', DEFAULT_IOU) } });
    if (detector.unknownLabels.length) console.error(`warning: labels not in the model: ${detector.unknownLabels.join(', ')}`);
    const fps = numArg(args, 'fps', 0);
    const maxFrames = args['max-frames'] !== undefined ? numArg(args, 'max-frames', 0) : undefined;
    for (const source of args._) {
      for await (const { index, image } of sourceFrames(source, { fps, maxFrames })) {
        const { detections } = await detector.detect([image]);
        const dets = detections[0].map((d) => ({ box: d.box.map(r1), score: Math.round(d.score * 1000) / 1000, label: d.label }));
        if (args.json) {
          process.stdout.write(JSON.stringify({ source, frame: index, detections: dets }) + '\n');
        } else {
          const list = dets.map((d) => `${d.label} ${d.score.toFixed(2)} [${d.box.join(', ')}]`).join('; ');
          process.stdout.write(`${source}#${index}: ${dets.length} ${list ? '— ' + list : ''}\n`);
        }
      }
    }
    return 0;
  } finally {
    await releaseModel(loaded.key, user);
  }
}
