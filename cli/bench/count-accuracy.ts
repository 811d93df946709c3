/**
 * `edgevision bench count-accuracy`: per line and overall, gt crossings vs. crossings counted from
 * tracker output on the shared MOT15 sequences (det.txt), with the default rules. Lines come from
 * test/fixtures/lines/<SEQ>.json (--lines-dir: another set, e.g. the held-out test/fixtures/lines-heldout). Prints figures; the e2e test asserts the bound.
 *
 * Three columns of counts: our tracker run in-process on det.txt feeding the counter frame by frame
 * (tentative tracks and track-end events included, as the nodes run), the same from a result file
 * (--tracks-dir, default SORT's output: the reference), and "detected gt" — the gt crossings whose
 * person was detected (det.txt box matched one-to-one at IoU ≥ 0.5) within 0.5 s before and after
 * the crossing — which shows how much of the error the detector already made. A fourth, "bound":
 * what a perfect tracker could count from the same detections (`detectionBound`: gt boxes and
 * identities in the frames where the detector found the person), the floor the detections set.
 * A fifth, "ids": the same perfect identities on the detector's own boxes (`detectionBound` with
 * boxes 'detector'), so the detector's box geometry costs what it costs us; what is left between it
 * and ours is identity alone.
 *
 * --video: instead, the whole pipeline on the TUD clips (video frame n = MOT frame n + 1): ffmpeg
 * decoding → yolox_nano (the detect node's defaults) → tracker → counter, against the clips' gt.
 * --tracker JSON passes tracker options (with --video over the vision-track node's defaults). Both
 * modes run `CountingPipeline`; --video runs `runRecording`, the function behind `edgevision run`.
 * --all-sets runs both modes on every line set and prints one row per set (ours, bound, ids); each clip is
 * decoded and detected once, and its detections replayed through `CountingPipeline` for the other sets.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, strArg, assetsArg, numArg, optionArgs } from '../args';
import { packageRoot } from '../../nodes/lib/assets';
import {
  compareWith,
  countMotTracks,
  CountingScene,
  detectedCrossings,
  detectionBound,
  gtCounts,
  LineAccuracy,
  MotTrackFile,
  parseMotTracks,
  randomLines,
  relativeError,
  trackAndCount,
} from '../../nodes/lib/eval';
import { parseSeqInfo } from '../../nodes/lib/eval/mot/io';
import { CountingPipeline, PipelineResult, runRecording } from '../../nodes/lib/eval/pipeline';
import { TrackerOptionsInput, VISION_TRACK_DEFAULTS } from '../../nodes/lib/tracking/tracker';
import { Detection } from '../../nodes/lib/types';
import { DEFAULT_OPTIONS } from '../../nodes/lib/counting/config';
import { MotionGateOptions, resolveMotionOptions } from '../../nodes/lib/detect/motion';

export const usage = [
  'usage: edgevision bench count-accuracy [--lines-dir DIR] [--tracks-dir DIR] [--assets DIR] [--video [--model M] [--tracker JSON]] [--bound-iou X] [--<counting option> V]',
  '',
  '  --lines-dir DIR    line files <SEQ>.json (default test/fixtures/lines; test/fixtures/lines-heldout is the held-out set)',
  "  --tracks-dir DIR   result files <SEQ>.txt to compare as well (default: SORT's output in the assets folder)",
  '  --assets DIR       the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)',
  '  --video            the full pipeline on the TUD clips: decode → detect → track → count',
  '  --model M          detection model for --video (default yolox_nano)',
  "  --tracker JSON     tracker options, e.g. '{\"newTrackThreshold\":0.7}' (default: the engine's; with --video the vision-track node's)",
  '  --bound-iou X      IoU at which a detection stands for a gt person in the bound and ids columns (default 0.5)',
  '  --random-lines N   instead of the line files, N seeded random lines per sequence (chords of the whole',
  '                     frame: lines nobody placed); prints per-sequence and overall figures only',
  '  --seed S           seed for --random-lines (default 1; sequence k uses S + k)',
  '  --all-sets         one summary of every set at once, for judging a change: det.txt on the fixture,',
  '                     held-out and random lines (seeds 1, 101, 202), and the video on the fixture,',
  '                     held-out and random lines (seeds 1, 101); counting and tracker options apply to all',
  "  --motion [JSON]    video: motion-gated detection (vision-detect's option), e.g. '{\"maxSkipS\":1}'; prints the share skipped",
].join('\n');

const OWN = new Set(['_', 'assets', 'tracks-dir', 'lines-dir', 'video', 'model', 'tracker', 'bound-iou', 'random-lines', 'seed', 'all-sets', 'motion']);

function seqInfo(dir: string): { width: number; height: number; fps: number } {
  const info = parseSeqInfo(fs.readFileSync(path.join(dir, 'seqinfo.ini'), 'utf8'));
  return { width: Number(info.imWidth), height: Number(info.imHeight), fps: Number(info.frameRate) };
}

/** Where a run's lines come from: the line files of a folder, or seeded random lines. */
interface LineSource {
  describe: string;
  /** The geometry for a sequence (k: its index in MOT_SEQUENCES order), or null when there is none. */
  geometry(seq: string, k: number): unknown;
  /** Print a row per line (line files) or only per-sequence figures (random lines: too many). */
  perLine: boolean;
}

/** The shared MOT15 sequences, in the order random-line seeds are given out. */
const MOT_SEQUENCES = ['ADL-Rundle-6', 'ETH-Sunnyday', 'KITTI-13', 'KITTI-17', 'TUD-Campus', 'TUD-Stadtmitte'];

const sum = (rows: LineAccuracy[], k: 'absError' | 'gtTotal') => rows.reduce((s, r) => s + r[k], 0);
const pct = (rows: LineAccuracy[]) => `${sum(rows, 'absError')}/${sum(rows, 'gtTotal')} = ${(100 * relativeError(rows)).toFixed(1)} %`;
const pair = (a: number, b: number) => `${a}/${b}`.padStart(7);
/** One column of a per-line row: in/out right-aligned to `width`, then |err|. */
const cell = (a: number, b: number, err: number, width = 7, gap = ' ') => `${pair(a, b).padStart(width)}${gap}${String(err).padStart(3)}`;

/** The sequences a folder of line files covers (<SEQ>.json), sorted. */
function lineFileSequences(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -5))
    .sort();
}

/**
 * Overall rows of one run: ours, the bound (what a perfect tracker could count from the same
 * detections, on gt boxes) and ids (perfect identities on the detector's own boxes).
 */
interface SetResult {
  ours: LineAccuracy[];
  bound: LineAccuracy[];
  ids: LineAccuracy[];
}

/** A clip's detector output, frame by frame: what `runRecording` fed its pipeline, kept to replay. */
type ClipDetections = Array<{ index: number; tMs: number; raw: Detection[]; skipped: boolean }>;

function lineFiles(linesDir: string): LineSource {
  return {
    describe: linesDir,
    geometry: (seq) => {
      const f = path.join(linesDir, seq + '.json');
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : null;
    },
    perLine: true,
  };
}

function randomLineSource(count: number, seed: number): LineSource {
  return { describe: `${count} random lines per sequence (seed ${seed})`, geometry: (_seq, k) => randomLines(count, seed + k), perLine: false };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['video', 'all-sets']);
  const root = packageRoot();
  const assets = assetsArg(args);
  const tracksDir = strArg(args, 'tracks-dir') ?? path.join(assets, 'mot15-reference', 'sort-output');
  const options = optionArgs(args, DEFAULT_OPTIONS, OWN);
  const linesArg = strArg(args, 'lines-dir');
  const linesDir = linesArg ? path.resolve(linesArg) : path.join(root, 'test', 'fixtures', 'lines');
  const trackerText = strArg(args, 'tracker');
  const trackerOptions = trackerText ? JSON.parse(trackerText) : {};
  const videoTracker = trackerText ? { ...VISION_TRACK_DEFAULTS, ...trackerOptions } : VISION_TRACK_DEFAULTS;
  const model = strArg(args, 'model') ?? 'yolox_nano';
  const boundIou = numArg(args, 'bound-iou', 0.5);
  if (!(boundIou > 0 && boundIou <= 1)) throw new Error(`--bound-iou must be in (0, 1], got ${boundIou}`);
  // --motion alone: the defaults; --motion JSON: options over them (checked by the engine).
  const motion: Partial<MotionGateOptions> | undefined =
    args.motion === undefined ? undefined : args.motion === true ? {} : resolveMotionOptions(JSON.parse(String(args.motion)));
  if (args['all-sets'] === true) return allSets(root, assets, tracksDir, model, options, trackerOptions, videoTracker, boundIou, motion);
  const randomCount = args['random-lines'] === undefined ? 0 : numArg(args, 'random-lines', 0);
  if (args['random-lines'] !== undefined && !(Number.isInteger(randomCount) && randomCount >= 1))
    throw new Error(`--random-lines must be a whole number ≥ 1, got ${String(args['random-lines'])}`);
  const seed = numArg(args, 'seed', 1);
  const lines = randomCount ? randomLineSource(randomCount, seed) : lineFiles(linesDir);
  const sequences = randomCount ? MOT_SEQUENCES : lineFileSequences(linesDir);
  if (args.video === true) await videoAccuracy(assets, lines, model, options, videoTracker, boundIou, true, undefined, motion);
  else detAccuracy(assets, lines, sequences, tracksDir, options, trackerOptions, boundIou, true);
  return 0;
}

/**
 * --all-sets: every set in one table, so that a change is judged on all of them at once (a rule that
 * helps the hand-placed lines and hurts the random ones, or the video, shows at a glance).
 */
async function allSets(
  root: string,
  assets: string,
  tracksDir: string,
  model: string,
  options: Record<string, unknown>,
  trackerOptions: TrackerOptionsInput,
  videoTracker: TrackerOptionsInput,
  boundIou: number,
  motion?: Partial<MotionGateOptions>,
): Promise<number> {
  const fixture = lineFiles(path.join(root, 'test', 'fixtures', 'lines'));
  const heldOut = lineFiles(path.join(root, 'test', 'fixtures', 'lines-heldout'));
  // Decoding and detecting a clip is most of a video set's time, and the same for every line set.
  const clips = new Map<string, ClipDetections>();
  const sets: Array<{ name: string; result: () => Promise<SetResult> }> = [
    {
      name: 'det.txt, fixture lines',
      result: async () => detAccuracy(assets, fixture, lineFileSequences(fixture.describe), tracksDir, options, trackerOptions, boundIou, false),
    },
    {
      name: 'det.txt, held-out lines',
      result: async () => detAccuracy(assets, heldOut, lineFileSequences(heldOut.describe), tracksDir, options, trackerOptions, boundIou, false),
    },
    ...[1, 101, 202].map((seed) => ({
      name: `det.txt, random lines seed ${seed}`,
      result: async () => detAccuracy(assets, randomLineSource(100, seed), MOT_SEQUENCES, tracksDir, options, trackerOptions, boundIou, false),
    })),
    { name: 'video, fixture lines', result: () => videoAccuracy(assets, fixture, model, options, videoTracker, boundIou, false, clips, motion) },
    { name: 'video, held-out lines', result: () => videoAccuracy(assets, heldOut, model, options, videoTracker, boundIou, false, clips, motion) },
    ...[1, 101].map((seed) => ({
      name: `video, random lines seed ${seed}`,
      result: () => videoAccuracy(assets, randomLineSource(100, seed), model, options, videoTracker, boundIou, false, clips, motion),
    })),
  ];
  console.log(
    `counting options ${JSON.stringify(options)}; tracker options ${JSON.stringify(trackerOptions)} (video: ${JSON.stringify(videoTracker)}${motion ? `, motion gating ${JSON.stringify(motion)}` : ''}); random sets: 100 lines per sequence`,
  );
  console.log('set                               ours                  bound (gt boxes)      ids (detector boxes)');
  for (const set of sets) {
    const r = await set.result();
    console.log(`${set.name.padEnd(33)} ${pct(r.ours).padEnd(21)} ${pct(r.bound).padEnd(21)} ${pct(r.ids)}`);
  }
  return 0;
}

/** Our tracker on det.txt (and SORT's result files, the detected-gt column and the bound) against the gt crossings. */
function detAccuracy(
  assets: string,
  lines: LineSource,
  sequences: string[],
  tracksDir: string,
  options: Record<string, unknown>,
  trackerOptions: TrackerOptionsInput,
  boundIou: number,
  print: boolean,
): SetResult {
  const log = print ? console.log : () => undefined;
  const ours: LineAccuracy[] = [];
  const file: LineAccuracy[] = [];
  const seen: LineAccuracy[] = [];
  const bound: LineAccuracy[] = [];
  const ids: LineAccuracy[] = [];
  log(`counting options: ${JSON.stringify(options)} (defaults otherwise); lines: ${lines.describe}; result files: ${tracksDir}`);
  if (lines.perLine)
    log('sequence        line     gt in/out | ours in/out |err| | file in/out |err| | detected-gt in/out |err| | bound in/out |err| | ids in/out |err|');
  for (const seq of sequences) {
    const seqDir = path.join(assets, 'mot15', seq);
    if (!fs.existsSync(seqDir)) {
      log(`${seq.padEnd(15)} (skipped: no ${seqDir})`);
      continue;
    }
    const { width, height, fps } = seqInfo(seqDir);
    const geometry = lines.geometry(seq, MOT_SEQUENCES.indexOf(seq));
    if (!geometry) {
      log(`${seq.padEnd(15)} (skipped: no line file for it)`);
      continue;
    }
    const gt = parseMotTracks(fs.readFileSync(path.join(seqDir, 'gt', 'gt.txt'), 'utf8'), { gt: true });
    const dets = parseMotTracks(fs.readFileSync(path.join(seqDir, 'det', 'det.txt'), 'utf8'));
    const scene: CountingScene = { geometry, width, height, fps, counting: options };
    const gtCrossings = gtCounts(gt, scene);
    const reference = gtCrossings.counts;
    const a = compareWith(reference, trackAndCount(dets, scene, trackerOptions));
    const trk = path.join(tracksDir, seq + '.txt');
    const b = fs.existsSync(trk) ? compareWith(reference, countMotTracks(parseMotTracks(fs.readFileSync(trk, 'utf8')), scene).counts) : [];
    const reach = detectedCrossings(gtCrossings, gt, dets, fps);
    const d = compareWith(reference, detectionBound(gt, dets, scene, boundIou));
    const e = compareWith(reference, detectionBound(gt, dets, scene, boundIou, 'detector'));
    const c: LineAccuracy[] = a.map((r) => {
      const g = reach[r.line];
      return { ...r, gtIn: g.in, gtOut: g.out, gtTotal: g.in + g.out, absError: Math.abs(r.in - g.in) + Math.abs(r.out - g.out) };
    });
    if (lines.perLine)
      a.forEach((r, i) => {
        const rb = b[i];
        log(
          `${seq.padEnd(15)} ${r.line.padEnd(8)} ${pair(r.gtIn, r.gtOut)}   | ${cell(r.in, r.out, r.absError)} | ` +
            (rb ? cell(rb.in, rb.out, rb.absError) : '     (no file)') +
            ` | ${cell(c[i].gtIn, c[i].gtOut, c[i].absError, 18)} | ${cell(d[i].in, d[i].out, d[i].absError, 12)} | ${cell(e[i].in, e[i].out, e[i].absError, 10)}`,
        );
      });
    const crossed = lines.perLine ? '' : ` (${a.filter((r) => r.gtTotal > 0).length} of ${a.length} lines crossed by gt)`;
    log(
      `${seq.padEnd(15)} (all)    ours ${pct(a)}; file ${b.length ? pct(b) : '-'}; detected gt crossings ${sum(c, 'gtTotal')}, ours vs those ${pct(c)}; bound ${pct(d)}; ids ${pct(e)}${crossed}`,
    );
    ours.push(...a);
    file.push(...b);
    seen.push(...c);
    bound.push(...d);
    ids.push(...e);
  }
  log(`overall, our tracker on det.txt: total absolute error / gt crossings = ${pct(ours)}`);
  log(`overall, result files (${path.basename(tracksDir)}): ${pct(file)}`);
  log(`overall, gt crossings whose person was detected near the line: ${sum(seen, 'gtTotal')} of ${sum(ours, 'gtTotal')}; our counts vs those: ${pct(seen)}`);
  log(`overall, bound (a perfect tracker on these detections: gt boxes and ids where detected): ${pct(bound)}`);
  log(`overall, ids (the same perfect identities on the detector's own boxes): ${pct(ids)}`);
  return { ours, bound, ids };
}

/**
 * The whole pipeline on the TUD clips, in-process: the same function as `edgevision run`, measured
 * against gt. With `clips`, a clip already run there is not decoded and detected again: its
 * detections are replayed through the same `CountingPipeline` (the detector is deterministic).
 */
async function videoAccuracy(
  assets: string,
  lines: LineSource,
  model: string,
  options: Record<string, unknown>,
  trackerOptions: TrackerOptionsInput,
  boundIou: number,
  print: boolean,
  clips?: Map<string, ClipDetections>,
  motion?: Partial<MotionGateOptions>,
): Promise<SetResult> {
  const log = print ? console.log : () => undefined;
  const all: LineAccuracy[] = [];
  const bound: LineAccuracy[] = [];
  const ids: LineAccuracy[] = [];
  log(
    `lines ${lines.describe}; model ${model}, detector defaults${motion ? `, motion gating ${JSON.stringify(motion)}` : ''}; tracker options ${JSON.stringify(trackerOptions)}; counting options ${JSON.stringify(options)}`,
  );
  log('clip            line     gt in/out | video in/out |err| | bound in/out |err| | ids in/out |err|');
  for (const seq of ['TUD-Campus', 'TUD-Stadtmitte']) {
    const clip = path.join(assets, 'video', seq + '.mp4');
    const seqDir = path.join(assets, 'mot15', seq);
    if (!fs.existsSync(clip) || !fs.existsSync(seqDir)) {
      log(`${seq.padEnd(15)} (skipped: no clip or gt)`);
      continue;
    }
    const { width, height, fps } = seqInfo(seqDir);
    // The same seed offset as on det.txt: a sequence gets the same random lines in both modes.
    const geometry = lines.geometry(seq, MOT_SEQUENCES.indexOf(seq));
    if (!geometry) {
      log(`${seq.padEnd(15)} (skipped: no line file for it)`);
      continue;
    }
    const gt = parseMotTracks(fs.readFileSync(path.join(seqDir, 'gt', 'gt.txt'), 'utf8'), { gt: true });
    // The detector's person boxes per MOT frame (video frame n = MOT frame n + 1), for the bound.
    const found: MotTrackFile = { frames: gt.frames.map(() => []), lastFrame: gt.lastFrame, rows: 0 };
    const keep = (index: number, raw: Detection[]) => {
      if (index + 1 <= found.lastFrame) found.frames[index + 1] = raw.filter((d) => d.label === 'person');
    };
    const settings = { geometry, counting: options, tracker: trackerOptions };
    let r: PipelineResult;
    const cached = clips?.get(seq);
    if (cached) {
      const pipeline = new CountingPipeline(settings);
      for (const f of cached) {
        if (f.skipped) pipeline.coast(f.tMs, width, height);
        else pipeline.step(f.raw, f.tMs, width, height);
        keep(f.index, f.raw);
      }
      r = pipeline.finish();
    } else {
      const run: ClipDetections = [];
      r = await runRecording({
        source: clip,
        model,
        ...settings,
        motion,
        onFrame: (index, tMs, _step, raw, _f, _p, skipped) => {
          keep(index, raw);
          run.push({ index, tMs, raw, skipped });
        },
        onMotion: (m) =>
          console.log(
            `${seq}: motion gating detected ${m.detected} frames, skipped ${m.skipped} (${((100 * m.skipped) / (m.detected + m.skipped)).toFixed(0)} %)`,
          ),
      });
      clips?.set(seq, run);
    }
    const scene: CountingScene = { geometry, width, height, fps, counting: options };
    const reference = gtCounts(gt, scene).counts;
    const rows = compareWith(reference, r.counts);
    const b = compareWith(reference, detectionBound(gt, found, scene, boundIou));
    const e = compareWith(reference, detectionBound(gt, found, scene, boundIou, 'detector'));
    if (lines.perLine)
      rows.forEach((row, i) =>
        log(
          `${seq.padEnd(15)} ${row.line.padEnd(8)} ${pair(row.gtIn, row.gtOut)}   | ${cell(row.in, row.out, row.absError, 7, '  ')} | ${cell(b[i].in, b[i].out, b[i].absError, 12)} | ${cell(e[i].in, e[i].out, e[i].absError, 10)}`,
        ),
      );
    else
      log(
        `${seq.padEnd(15)} (all)    video ${pct(rows)}; bound ${pct(b)}; ids ${pct(e)} (${rows.filter((r) => r.gtTotal > 0).length} of ${rows.length} lines crossed by gt)`,
      );
    all.push(...rows);
    bound.push(...b);
    ids.push(...e);
  }
  log(`overall, full video pipeline: total absolute error / gt crossings = ${pct(all)}`);
  log(`overall, bound (a perfect tracker on the detector's person boxes): ${pct(bound)}`);
  log(`overall, ids (the same perfect identities on the detector's own boxes): ${pct(ids)}`);
  return { ours: all, bound, ids };
}
