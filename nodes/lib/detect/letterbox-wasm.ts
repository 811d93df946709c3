/**
 * The letterbox in WebAssembly with SIMD (wasm/letterbox.c): the same resampling and output as
 * letterboxInto() in letterbox.ts, about 3× cheaper, which matters because it runs on Node-RED's
 * thread for every frame while the model runs in its worker (see `edgevision bench detect`). The
 * frame is copied into the module's memory and the tensor copied out (two memcpys, ~0.3 ms for
 * 768×576 → 416²); everything between is the kernel. Where WebAssembly SIMD is missing (very old
 * CPUs or runtimes) `createWasmLetterbox()` returns null and the JS loops run instead.
 */
import { LETTERBOX_WASM_BASE64 } from './wasm/letterbox.generated';
import { LetterboxParams, PreprocessOptions, SourceImage, axisTable, channelMap, checkLetterboxArgs, letterboxInto, letterboxParams } from './letterbox';

// The slice of the WebAssembly global we use (not in the ES libs this package compiles against).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

interface KernelExports {
  letterbox(...args: number[]): void;
  __heap_base: { value: number };
}

/** Where each buffer sits in the module's memory for one frame size and input size. */
interface Layout {
  key: string;
  srcPtr: number;
  outPtr: number;
  end: number;
  x0: number;
  x1: number;
  wx: number;
  y0: number;
  y1: number;
  wy: number;
  rows: number;
  lanes: number;
  coef: number;
  pad: number;
  /** Every column's second tap is the next pixel (rgb/bgr): the kernel's faster row pass applies. */
  adjacent: boolean;
}

const PAGE = 65536;
/** Memory below this is never given back (the initial 2 MiB plus a VGA frame fit in it). */
const SHRINK_ABOVE = 8 * 1024 * 1024;
/** Frames (all cameras together) without a large one before the memory is given back: ~10 s at 25 fps. */
const SHRINK_AFTER_FRAMES = 250;

function instantiate(module: object): { memory: WasmMemory; kernel: KernelExports } {
  const memory = new WebAssembly.Memory({ initial: 32 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return { memory, kernel: instance.exports as unknown as KernelExports };
}

export class WasmLetterbox {
  private layout: Layout | null = null;
  /** Frames letterboxed, and the last one that needed at least half of the memory held. */
  private frames = 0;
  private lastLargeFrame = 0;
  private u8: Uint8Array;
  private i32: Int32Array;
  private f32: Float32Array;

  private constructor(
    private readonly module: object,
    private memory: WasmMemory,
    private kernel: KernelExports,
  ) {
    this.u8 = new Uint8Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
  }

  /** Null where this runtime cannot compile the module (no WebAssembly SIMD). */
  static create(): WasmLetterbox | null {
    try {
      const module = new WebAssembly.Module(Buffer.from(LETTERBOX_WASM_BASE64, 'base64'));
      const { memory, kernel } = instantiate(module);
      return new WasmLetterbox(module, memory, kernel);
    } catch {
      return null;
    }
  }

  /** Bytes of WebAssembly memory held now (it grows for a larger frame, and shrinks back: shrinkIfIdle). */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows the memory to hold `end` bytes; the typed-array views follow when the buffer changed (grown, or a fresh instance). */
  private fitMemory(end: number): void {
    if (end > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
    if (this.u8.buffer === this.memory.buffer) return;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /**
   * WebAssembly memory can only grow: after one 4K frame it would hold ~27 MB for good. Once no frame
   * in SHRINK_AFTER_FRAMES has needed even half of what is held (and more than SHRINK_ABOVE is held),
   * the kernel starts over in a fresh instance sized for the frames it gets now. The wait matters: one
   * module serves every camera of the process, so a 4K and a VGA camera alternate frame by frame, and
   * starting over at each switch would cost ~10 ms a frame.
   */
  private shrinkIfIdle(end: number): boolean {
    const held = this.memory.buffer.byteLength;
    if (2 * end >= held) this.lastLargeFrame = this.frames;
    if (held <= SHRINK_ABOVE || this.frames - this.lastLargeFrame <= SHRINK_AFTER_FRAMES) return false;
    const fresh = instantiate(this.module);
    this.memory = fresh.memory;
    this.kernel = fresh.kernel;
    this.layout = null;
    this.lastLargeFrame = this.frames;
    return true;
  }

  private ensureLayout(img: SourceImage, p: LetterboxParams, bpp: number, opts: PreprocessOptions): Layout {
    const key = `${img.width}x${img.height}x${bpp}>${p.dstWidth}x${p.dstHeight}:${p.padX},${p.padY}:${opts.interpolation}`;
    if (this.layout?.key === key) return this.layout;
    const iw = p.innerWidth,
      ih = p.innerHeight;
    const align16 = (n: number) => (n + 15) & ~15;
    let at = align16(this.kernel.__heap_base.value || 65536);
    const take = (bytes: number) => {
      const ptr = at;
      at = align16(at + bytes);
      return ptr;
    };
    const l: Layout = {
      key,
      x0: take(4 * iw),
      x1: take(4 * iw),
      wx: take(4 * iw),
      y0: take(4 * ih),
      y1: take(4 * ih),
      wy: take(4 * ih),
      rows: take(2 * 4 * 4 * iw),
      lanes: take(16),
      coef: take(32),
      pad: take(16),
      // The kernel reads up to 8 bytes at a pixel: slack after the frame.
      srcPtr: take(img.width * img.height * bpp + 8),
      outPtr: take(4 * 3 * p.dstWidth * p.dstHeight),
      end: 0,
      adjacent: false,
    };
    l.end = at;
    this.fitMemory(l.end);
    const nearest = opts.interpolation === 'nearest';
    const xt = axisTable(img.width, iw, bpp);
    const yt = axisTable(img.height, ih, 1);
    // Nearest is the same kernel with 0/1 weights: the nearer of the two bilinear taps, exactly.
    const weight = (w: number) => (nearest ? (w < 0.5 ? 0 : 1) : w);
    // A column whose two taps are the same edge pixel is rewritten as (previous pixel, edge pixel,
    // weight 1): the same value, and then every second tap is the next pixel.
    let adjacent = bpp === 3 && img.width >= 2;
    for (let i = 0; i < iw; i++) {
      let a = xt.i0[i];
      const b = xt.i1[i];
      let w = weight(xt.w1[i]);
      if (a === b && a >= bpp) {
        a -= bpp;
        w = 1;
      }
      if (b !== a + bpp) adjacent = false;
      this.i32[l.x0 / 4 + i] = a;
      this.i32[l.x1 / 4 + i] = b;
      this.f32[l.wx / 4 + i] = w;
    }
    l.adjacent = adjacent;
    for (let i = 0; i < ih; i++) {
      this.i32[l.y0 / 4 + i] = yt.i0[i];
      this.i32[l.y1 / 4 + i] = yt.i1[i];
      this.f32[l.wy / 4 + i] = weight(yt.w1[i]);
    }
    this.layout = l;
    return l;
  }

  /** As letterboxInto(): writes `out` at `offset` and returns the mapping. */
  letterboxInto(img: SourceImage, dstWidth: number, dstHeight: number, opts: PreprocessOptions, out: Float32Array, offset = 0): LetterboxParams {
    const bpp = checkLetterboxArgs(img, dstWidth, dstHeight, out, offset);
    const p = letterboxParams(img.width, img.height, dstWidth, dstHeight, opts.align);
    this.frames++;
    let l = this.ensureLayout(img, p, bpp, opts);
    if (this.shrinkIfIdle(l.end)) l = this.ensureLayout(img, p, bpp, opts);
    const lanes = channelMap(img.format, opts.channelOrder);
    for (let k = 0; k < 3; k++) {
      const a = opts.scale / opts.std[k],
        b = -opts.mean[k] / opts.std[k];
      this.i32[l.lanes / 4 + k] = lanes[k];
      this.f32[l.coef / 4 + k] = a;
      this.f32[l.coef / 4 + 3 + k] = b;
      this.f32[l.pad / 4 + k] = opts.padValue * a + b;
    }
    this.u8.set(img.data, l.srcPtr);
    this.kernel.letterbox(
      l.srcPtr,
      img.width,
      bpp,
      l.x0,
      l.x1,
      l.wx,
      l.y0,
      l.y1,
      l.wy,
      p.innerWidth,
      p.innerHeight,
      l.rows,
      l.outPtr,
      dstWidth,
      dstHeight,
      p.padX,
      p.padY,
      l.lanes,
      l.coef,
      l.pad,
      l.adjacent ? 1 : 0,
    );
    const n = 3 * dstWidth * dstHeight;
    out.set(this.f32.subarray(l.outPtr / 4, l.outPtr / 4 + n), offset);
    return p;
  }
}

let shared: WasmLetterbox | null | undefined;

/** The process's WebAssembly letterbox (one module: JS is single-threaded), or null without SIMD. */
export function wasmLetterbox(): WasmLetterbox | null {
  if (shared === undefined) shared = WasmLetterbox.create();
  return shared;
}

/**
 * The letterbox vision-detect runs: the WebAssembly kernel where the runtime has SIMD, else the JS
 * loops. Same arguments, result and output as letterboxInto().
 */
export function letterboxAuto(img: SourceImage, dstWidth: number, dstHeight: number, opts: PreprocessOptions, out: Float32Array, offset = 0): LetterboxParams {
  const w = wasmLetterbox();
  return w ? w.letterboxInto(img, dstWidth, dstHeight, opts, out, offset) : letterboxInto(img, dstWidth, dstHeight, opts, out, offset);
}
