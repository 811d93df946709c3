/**
 * Makes an ONNX model batch-capable in JavaScript: the graph inputs' and outputs' first dimension
 * becomes a named (dynamic) one, and Reshape nodes whose target shape pins the batch to 1 (YOLOX's
 * head reshapes to [1, 85, -1]) get 0 there instead, which ONNX's Reshape reads as "copy this
 * dimension from the input" (unless the node sets allowzero). Everything else in the file is copied
 * byte for byte: a minimal protobuf rewriter, no protobuf library.
 *
 * What it cannot see it reports instead of guessing: a Reshape whose shape is computed at run time
 * is fine (it follows the input), but a Reshape with allowzero=1, an Expand/Tile/ConstantOfShape
 * with a constant leading 1, or a shape constant we cannot read is listed in `suspects`, and the
 * caller must check the rewritten model's outputs against batch-1 runs (batchCheck in the CLI and
 * test/unit/onnx-batch-model.test.js do).
 *
 * Protobuf fields used (onnx.proto3): ModelProto.graph = 7; GraphProto.node = 1, initializer = 5,
 * input = 11, output = 12, value_info = 13; NodeProto.input = 1, output = 2, name = 3, op_type = 4,
 * attribute = 5; AttributeProto.name = 1, i = 3, t = 5; TensorProto.dims = 1, data_type = 2,
 * int64_data = 7, name = 8, raw_data = 9; ValueInfoProto.name = 1, type = 2; TypeProto.tensor_type =
 * 1; TypeProto.Tensor.shape = 2; TensorShapeProto.dim = 1; Dimension.dim_value = 1, dim_param = 2.
 */

interface Field {
  field: number;
  wire: number;
  /** Start of the tag (the whole field is bytes[start, end)). */
  start: number;
  /** Start and end of the payload (for wire 0 the varint itself). */
  valueStart: number;
  end: number;
  /** Wire 0: the value. */
  value: number;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, pos];
    mul *= 128;
  }
  throw new Error('varint too long');
}

function fields(buf: Uint8Array, start: number, end: number): Field[] {
  const out: Field[] = [];
  let pos = start;
  while (pos < end) {
    const [tag, p] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let valueStart = p;
    let next: number;
    let value = 0;
    if (wire === 0) [value, next] = readVarint(buf, p);
    else if (wire === 1) next = p + 8;
    else if (wire === 5) next = p + 4;
    else if (wire === 2) {
      const [len, q] = readVarint(buf, p);
      valueStart = q;
      next = q + len;
    } else throw new Error(`unsupported protobuf wire type ${wire} at byte ${pos}`);
    if (next > end) throw new Error(`protobuf field ${field} runs past its message (byte ${pos})`);
    out.push({ field, wire, start: pos, valueStart, end: next, value });
    pos = next;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8');
const text = (buf: Uint8Array, f: Field) => utf8.decode(buf.subarray(f.valueStart, f.end));

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field made of chunks. */
function message(field: number, chunks: Uint8Array[]): Uint8Array[] {
  const len = chunks.reduce((n, c) => n + c.length, 0);
  return [Uint8Array.from([...varintBytes(field * 8 + 2), ...varintBytes(len)]), ...chunks];
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Where an int64 constant's first element lives, so it can be patched in place. */
interface Int64Head {
  /** The values (first few), for the report. */
  values: number[];
  /** Byte offset of the first element, and its encoding. */
  at: number;
  encoding: 'raw' | 'varint';
}

const INT64 = 7;

/** The int64 values of a TensorProto and where its first element is; undefined when not int64. */
function int64Tensor(buf: Uint8Array, start: number, end: number): { name: string; head?: Int64Head } | undefined {
  const fs = fields(buf, start, end);
  const type = fs.find((f) => f.field === 2 && f.wire === 0)?.value;
  const nameField = fs.find((f) => f.field === 8 && f.wire === 2);
  const name = nameField ? text(buf, nameField) : '';
  if (type !== INT64) return { name };
  const raw = fs.find((f) => f.field === 9 && f.wire === 2);
  if (raw && raw.end - raw.valueStart >= 8) {
    const view = new DataView(buf.buffer, buf.byteOffset + raw.valueStart, raw.end - raw.valueStart);
    const values: number[] = [];
    for (let i = 0; i + 8 <= view.byteLength && i < 64; i += 8) values.push(Number(view.getBigInt64(i, true)));
    return { name, head: { values, at: raw.valueStart, encoding: 'raw' } };
  }
  const data = fs.filter((f) => f.field === 7);
  if (data.length) {
    const values: number[] = [];
    let at = -1;
    for (const f of data) {
      if (f.wire === 0) {
        if (at < 0) at = f.valueStart;
        values.push(f.value);
      } else if (f.wire === 2) {
        let p = f.valueStart;
        if (at < 0) at = p;
        while (p < f.end && values.length < 64) {
          const [v, q] = readVarint(buf, p);
          values.push(v);
          p = q;
        }
      }
    }
    if (at >= 0) return { name, head: { values, at, encoding: 'varint' } };
  }
  return { name };
}

export interface BatchRewriteReport {
  /** The rewritten model file. */
  bytes: Uint8Array;
  /** Graph inputs and outputs whose first dimension was fixed and is now `dimName`. */
  madeDynamic: string[];
  /** The graph inputs among them (TensorRT's batch profiles name them). */
  inputsMadeDynamic: string[];
  /** Graph inputs and outputs whose first dimension was dynamic already. */
  alreadyDynamic: string[];
  /** Reshape shape constants whose leading 1 became 0 ("copy the batch from the input"). */
  reshapesFixed: string[];
  /** Things that may still pin the batch; check the outputs against batch-1 runs. */
  suspects: string[];
  /** value_info shape hints dropped (they describe batch 1; ONNX Runtime infers them again). */
  hintsDropped: number;
}

interface NodeInfo {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: { name: string; field: Field; fields: Field[] }[];
}

function readNode(buf: Uint8Array, f: Field): NodeInfo {
  const fs = fields(buf, f.valueStart, f.end);
  const get = (n: number) => fs.filter((x) => x.field === n && x.wire === 2);
  const attrs = get(5).map((a) => {
    const af = fields(buf, a.valueStart, a.end);
    const n = af.find((x) => x.field === 1 && x.wire === 2);
    return { name: n ? text(buf, n) : '', field: a, fields: af };
  });
  const op = get(4)[0];
  const name = get(3)[0];
  return {
    op: op ? text(buf, op) : '',
    name: name ? text(buf, name) : '',
    inputs: get(1).map((x) => text(buf, x)),
    outputs: get(2).map((x) => text(buf, x)),
    attrs,
  };
}

/** A ValueInfoProto with its first dimension replaced by `dimName` (as it was when it has no fixed one). */
function rewriteValueInfo(buf: Uint8Array, vi: Field, dimName: string): { chunks: Uint8Array[]; was: 'fixed' | 'dynamic' | 'none' } {
  const whole = [buf.subarray(vi.start, vi.end)];
  const viFields = fields(buf, vi.valueStart, vi.end);
  const type = viFields.find((f) => f.field === 2 && f.wire === 2);
  if (!type) return { chunks: whole, was: 'none' };
  const typeFields = fields(buf, type.valueStart, type.end);
  const tensor = typeFields.find((f) => f.field === 1 && f.wire === 2);
  if (!tensor) return { chunks: whole, was: 'none' };
  const tensorFields = fields(buf, tensor.valueStart, tensor.end);
  const shape = tensorFields.find((f) => f.field === 2 && f.wire === 2);
  if (!shape) return { chunks: whole, was: 'none' };
  const dims = fields(buf, shape.valueStart, shape.end);
  const first = dims.find((f) => f.field === 1 && f.wire === 2);
  if (!first) return { chunks: whole, was: 'none' };
  const dimFields = fields(buf, first.valueStart, first.end);
  if (!dimFields.some((f) => f.field === 1 && f.wire === 0)) return { chunks: whole, was: 'dynamic' };
  // Each enclosing message is rebuilt (its length changes); its other fields are copied as they are.
  const rebuild = (parentFields: Field[], child: Field, replacement: Uint8Array[], field: number): Uint8Array[] => {
    const inner: Uint8Array[] = [];
    for (const f of parentFields) inner.push(...(f === child ? replacement : [buf.subarray(f.start, f.end)]));
    return message(field, inner);
  };
  const newDim = message(1, message(2, [new TextEncoder().encode(dimName)]));
  const newShape = rebuild(dims, first, newDim, 2);
  const newTensor = rebuild(tensorFields, shape, newShape, 1);
  const newType = rebuild(typeFields, tensor, newTensor, 2);
  const newVi = rebuild(viFields, type, newType, vi.field);
  return { chunks: newVi, was: 'fixed' };
}

/** A ValueInfoProto's first dimension: its fixed value, undefined when dynamic, null when unknown. */
function firstDim(buf: Uint8Array, vi: Field): number | undefined | null {
  let f: Field | undefined = vi;
  for (const field of [2, 1, 2, 1]) {
    f = fields(buf, f.valueStart, f.end).find((x) => x.field === field && x.wire === 2);
    if (!f) return null;
  }
  const v = fields(buf, f.valueStart, f.end).find((x) => x.field === 1 && x.wire === 0);
  return v ? v.value : undefined;
}

/**
 * The model with a dynamic batch dimension (see the file comment). Throws when the bytes are not an
 * ONNX model we can walk. `dimName` names the new dimension ("batch").
 */
export function makeBatchDynamic(model: Uint8Array, dimName = 'batch'): BatchRewriteReport {
  // Same-length patches (a leading 1 → 0 in a shape constant) go into a copy first.
  const buf = Uint8Array.from(model);
  const top = fields(buf, 0, buf.length);
  const graph = top.find((f) => f.field === 7 && f.wire === 2);
  if (!graph) throw new Error('not an ONNX model: no graph');
  const gf = fields(buf, graph.valueStart, graph.end);
  const nodes = gf.filter((f) => f.field === 1 && f.wire === 2).map((f) => readNode(buf, f));
  if (!nodes.length) throw new Error('not an ONNX model: the graph has no nodes');

  // Int64 constants by name: initializers and Constant nodes.
  const constants = new Map<string, Int64Head | undefined>();
  for (const f of gf.filter((x) => x.field === 5 && x.wire === 2)) {
    const t = int64Tensor(buf, f.valueStart, f.end);
    if (t && t.name) constants.set(t.name, t.head);
  }
  for (const n of nodes) {
    if (n.op !== 'Constant' || !n.outputs[0]) continue;
    const value = n.attrs.find((a) => a.name === 'value');
    const t = value?.fields.find((x) => x.field === 5 && x.wire === 2);
    if (t) constants.set(n.outputs[0], int64Tensor(buf, t.valueStart, t.end)?.head);
  }
  const initNames = new Set(
    gf
      .filter((x) => x.field === 5 && x.wire === 2)
      .map((f) => int64Tensor(buf, f.valueStart, f.end)?.name ?? '')
      .filter((s) => s),
  );

  const reshapesFixed: string[] = [];
  const suspects: string[] = [];
  const label = (n: NodeInfo) => `${n.op} ${n.name || n.outputs[0] || '?'}`;
  for (const n of nodes) {
    if (n.op === 'Reshape') {
      const shapeName = n.inputs[1];
      if (!constants.has(shapeName)) continue; // computed at run time: follows the input
      const head = constants.get(shapeName);
      const allowZero = n.attrs.find((a) => a.name === 'allowzero')?.fields.find((x) => x.field === 3 && x.wire === 0)?.value === 1;
      if (!head) {
        suspects.push(`${label(n)}: its shape constant "${shapeName}" could not be read`);
      } else if (head.values[0] === 1) {
        if (allowZero) {
          suspects.push(`${label(n)}: shape [${head.values.join(',')}] pins batch 1 and allowzero=1 forbids copying it`);
          continue;
        }
        // int64 1 → 0: one byte in either encoding (little-endian raw, or a varint), so in place.
        buf[head.at] = 0;
        reshapesFixed.push(`${label(n)}: [${head.values.join(',')}] → [0,${head.values.slice(1).join(',')}]`);
      }
    } else if (n.op === 'Expand' || n.op === 'Tile' || n.op === 'ConstantOfShape') {
      const c = n.inputs[n.op === 'ConstantOfShape' ? 0 : 1];
      const head = constants.get(c);
      if (head && head.values[0] === 1 && head.values.length > 1) suspects.push(`${label(n)}: constant shape [${head.values.join(',')}] may pin batch 1`);
    }
  }

  // The model's own batch: only a graph input fixed at 1 is rewritten; a dynamic one is left alone
  // (its leading-1 Reshapes may be meant), a fixed batch > 1 is refused.
  for (const f of gf.filter((x) => x.field === 11 && x.wire === 2)) {
    const nameField = fields(buf, f.valueStart, f.end).find((x) => x.field === 1 && x.wire === 2);
    const name = nameField ? text(buf, nameField) : '';
    if (initNames.has(name)) continue;
    const first = firstDim(buf, f);
    if (first === null) continue; // no shape recorded: nothing to say
    if (first === undefined) {
      return { bytes: model, madeDynamic: [], inputsMadeDynamic: [], alreadyDynamic: [name], reshapesFixed: [], suspects: [], hintsDropped: 0 };
    }
    if (first !== 1) throw new Error(`input "${name}" has a fixed batch of ${first}; only a batch of 1 can be made dynamic`);
  }

  const madeDynamic: string[] = [];
  const inputsMadeDynamic: string[] = [];
  const alreadyDynamic: string[] = [];
  let hintsDropped = 0;
  const graphChunks: Uint8Array[] = [];
  for (const f of gf) {
    if (f.field === 13 && f.wire === 2) {
      hintsDropped++;
      continue;
    }
    if ((f.field === 11 || f.field === 12) && f.wire === 2) {
      const nameField = fields(buf, f.valueStart, f.end).find((x) => x.field === 1 && x.wire === 2);
      const name = nameField ? text(buf, nameField) : '';
      if (f.field === 11 && initNames.has(name)) {
        graphChunks.push(buf.subarray(f.start, f.end)); // an initializer listed as an input (old opsets)
        continue;
      }
      const r = rewriteValueInfo(buf, f, dimName);
      if (r.was === 'fixed') {
        madeDynamic.push(name);
        if (f.field === 11) inputsMadeDynamic.push(name);
      } else if (r.was === 'dynamic') alreadyDynamic.push(name);
      graphChunks.push(...r.chunks);
      continue;
    }
    graphChunks.push(buf.subarray(f.start, f.end));
  }
  const out: Uint8Array[] = [];
  for (const f of top) out.push(...(f === graph ? message(7, graphChunks) : [buf.subarray(f.start, f.end)]));
  return { bytes: concat(out), madeDynamic, inputsMadeDynamic, alreadyDynamic, reshapesFixed, suspects, hintsDropped };
}

/** Largest absolute difference between two equally long arrays (Infinity when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}
