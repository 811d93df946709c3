/**
 * `edgevision bench fanout`: why frames never ride on messages. A 1920×1080 RGB frame leaves a source
 * node whose output is wired to three nodes, in a real Node-RED runtime (which deep-clones a message
 * for every extra wire). Variant A puts the pixels in the frame store and sends a FrameRef; variant B
 * sends the raw buffer in msg.payload. Pixel bytes copied per frame are measured, not assumed: each
 * sink reads the pixels it was given (A: from the store) and the benchmark counts the distinct
 * buffers that are not the source's own. Throughput is messages delivered per second, one frame in
 * flight at a time. Prints figures; asserts nothing.
 *
 * Measured, not assumed: Node-RED clones with lodash cloneDeep, which clones a Node Buffer with
 * buffer.slice() — a view on the same memory, not a copy — but copies the whole ArrayBuffer behind
 * any other typed array (Uint8Array, Float32Array). So a copy is counted when a sink's pixels live in
 * a different ArrayBuffer from every source frame, and the raw variant runs with both kinds.
 */
import { parseArgs, numArg } from '../args';
import { sharedFrameStore } from '../../nodes/lib/frame-store';
import { FrameRef } from '../../nodes/lib/types';

export const usage = [
  'usage: edgevision bench fanout [--frames N] [--width W] [--height H] [--sinks K]',
  '',
  '  Needs the dev dependencies node-red and node-red-node-test-helper (npm install).',
  '  --frames N   frames per variant (default 200)',
  '  --width W --height H   frame size (default 1920×1080)',
  '  --sinks K    nodes the source is wired to (default 3)',
].join('\n');

interface VariantResult {
  name: string;
  frames: number;
  msgsPerS: number;
  framesPerS: number;
  copiedBytesPerFrame: number;
}

type Mode = 'ref' | 'raw-buffer' | 'raw-typed-array';

// The slice of Node-RED and of node-red-node-test-helper this benchmark drives (neither ships types).
interface BenchMsg {
  topic: string;
  payload: { camera: string; frame: FrameRef; detections: [] } | Uint8Array;
}
interface BenchNode {
  on(event: 'input', fn: (msg: BenchMsg, send: unknown, done: () => void) => void): void;
  send(msg: BenchMsg): void;
}
interface BenchRed {
  nodes: {
    createNode(node: BenchNode, config: object): void;
    registerType(type: string, ctor: (this: BenchNode, config: object) => void): void;
  };
}
interface TestHelper {
  init(nodeRedPath: string): void;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: (RED: BenchRed) => void, flow: object[], done: () => void): void;
  getNode(id: string): BenchNode;
  unload(): Promise<void>;
  _RED?: { version?(): string };
}

async function runVariant(helper: TestHelper, mode: Mode, frames: number, width: number, height: number, sinks: number): Promise<VariantResult> {
  const store = sharedFrameStore();
  const camera = `bench-fanout-${mode}`;
  const original = new Set<ArrayBufferLike>();
  const seen = new Set<ArrayBufferLike>();
  let delivered = 0;
  let onDelivered: (() => void) | null = null;

  const nodes = (RED: BenchRed) => {
    function Source(this: BenchNode, cfg: object) {
      RED.nodes.createNode(this, cfg);
    }
    function Sink(this: BenchNode, cfg: object) {
      RED.nodes.createNode(this, cfg);
      this.on('input', (msg, _send, done) => {
        const p = msg.payload;
        const px: Uint8Array | undefined = mode === 'ref' ? store.get((p as { frame: FrameRef }).frame)?.data : (p as Uint8Array);
        if (px && px.length) {
          seen.add(px.buffer);
        }
        delivered++;
        if (onDelivered) onDelivered();
        done();
      });
    }
    RED.nodes.registerType('bench-source', Source);
    RED.nodes.registerType('bench-sink', Sink);
  };
  const sinkIds = Array.from({ length: sinks }, (_, i) => `sink${i}`);
  const flow = [
    { id: 'f', type: 'tab' },
    { id: 'src', z: 'f', type: 'bench-source', wires: [sinkIds] },
    ...sinkIds.map((id) => ({ id, z: 'f', type: 'bench-sink', wires: [] })),
  ];
  await new Promise<void>((r) => helper.load(nodes, flow, () => r()));
  const src = helper.getNode('src');
  const frameBytes = width * height * 3;
  // A few distinct source frames, as a camera would produce (not one buffer reused).
  const pool: Uint8Array[] = Array.from({ length: 4 }, (_, i) =>
    mode === 'raw-typed-array' ? new Uint8Array(frameBytes).fill(i + 1) : Buffer.alloc(frameBytes, i + 1),
  );
  pool.forEach((b) => original.add(b.buffer));

  const sendOne = (i: number) =>
    new Promise<void>((resolve) => {
      const target = (i + 1) * sinks;
      onDelivered = () => {
        if (delivered >= target) resolve();
      };
      const px = pool[i % pool.length];
      if (mode === 'ref') {
        const ref = store.put(camera, px, width, height, i * 40);
        src.send({ topic: camera, payload: { camera, frame: ref, detections: [] } });
      } else {
        src.send({ topic: camera, payload: px });
      }
    });

  for (let i = 0; i < Math.min(5, frames); i++) await sendOne(i); // warm-up
  delivered = 0;
  seen.clear();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) await sendOne(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await helper.unload();
  store.release(camera);
  // Every buffer a sink saw that is not one of the source's own is a copy made on the way.
  let copies = 0;
  for (const b of seen) if (!original.has(b)) copies++;
  const names: Record<Mode, string> = {
    ref: 'FrameRef + frame store',
    'raw-buffer': 'raw Buffer in payload',
    'raw-typed-array': 'raw Uint8Array in payload',
  };
  return {
    name: names[mode],
    frames,
    msgsPerS: (frames * sinks) / s,
    framesPerS: frames / s,
    copiedBytesPerFrame: (copies * frameBytes) / frames,
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const frames = numArg(args, 'frames', 200);
  const width = numArg(args, 'width', 1920);
  const height = numArg(args, 'height', 1080);
  const sinks = numArg(args, 'sinks', 3);
  let helper: TestHelper;
  try {
    helper = require('node-red-node-test-helper');
    helper.init(require.resolve('node-red'));
  } catch (e) {
    console.error('bench fanout needs the dev dependencies node-red and node-red-node-test-helper: ' + (e as Error).message);
    return 2;
  }
  await helper.startServer();
  try {
    const a = await runVariant(helper, 'ref', frames, width, height, sinks);
    const b = await runVariant(helper, 'raw-buffer', frames, width, height, sinks);
    // lodash's cloneDeep walks a typed array index by index (millions of keys per frame), so this
    // variant gets a few frames only: enough to measure, short enough to finish.
    const c = await runVariant(helper, 'raw-typed-array', Math.max(2, Math.round(frames / 100)), width, height, sinks);
    const mb = (n: number) => (n / 1e6).toFixed(2) + ' MB';
    console.log(
      `fan-out of a ${width}×${height} RGB frame (${mb(width * height * 3)}) to ${sinks} nodes, ${frames} frames, Node-RED ${helper._RED?.version?.() ?? ''}`.trim(),
    );
    console.log('variant                       pixel bytes copied/frame   messages/s   frames/s');
    for (const r of [a, b, c]) {
      console.log(`${r.name.padEnd(30)}${mb(r.copiedBytesPerFrame).padStart(20)}${r.msgsPerS.toFixed(0).padStart(13)}${r.framesPerS.toFixed(1).padStart(11)}`);
    }
    for (const r of [b, c]) {
      console.log(
        `ratio FrameRef / ${r.name}: messages/s ×${(a.msgsPerS / r.msgsPerS).toFixed(2)}; pixel bytes copied per frame ${mb(a.copiedBytesPerFrame)} vs ${mb(r.copiedBytesPerFrame)}`,
      );
    }
    console.log("(a Buffer survives Node-RED's clone as a shared view: no copy, but every wire aliases the same mutable pixels)");
  } finally {
    await helper.stopServer();
  }
  return 0;
}
