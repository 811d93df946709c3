/**
 * Reads ModelProto.metadata_props (field 14: key/value strings) straight from the ONNX protobuf.
 * onnxruntime-node does not expose custom metadata, and that is where exporters such as Ultralytics
 * put the class names. Only the top level is walked; the graph (field 7) is skipped by its length.
 */

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  // Plain arithmetic, not bit operations: lengths of large models pass 2^31.
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

function skipField(buf: Uint8Array, pos: number, wire: number): number {
  switch (wire) {
    case 0:
      return readVarint(buf, pos)[1];
    case 1:
      return pos + 8;
    case 2: {
      const [len, p] = readVarint(buf, pos);
      return p + len;
    }
    case 5:
      return pos + 4;
    default:
      throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const utf8 = new TextDecoder('utf-8');

function readEntry(buf: Uint8Array, start: number, end: number): [string, string] {
  let key = '';
  let value = '';
  let pos = start;
  while (pos < end) {
    const [tag, p] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 2 && (field === 1 || field === 2)) {
      const [len, q] = readVarint(buf, p);
      const s = utf8.decode(buf.subarray(q, q + len));
      if (field === 1) key = s;
      else value = s;
      pos = q + len;
    } else {
      pos = skipField(buf, p, wire);
    }
  }
  return [key, value];
}

/** Custom metadata of an ONNX model; {} when there is none or the bytes are not a model we can walk. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    let pos = 0;
    while (pos < bytes.length) {
      const [tag, p] = readVarint(bytes, pos);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === 14 && wire === 2) {
        const [len, q] = readVarint(bytes, p);
        if (q + len > bytes.length) break;
        const [k, v] = readEntry(bytes, q, q + len);
        if (k) out[k] = v;
        pos = q + len;
      } else {
        pos = skipField(bytes, p, wire);
      }
    }
  } catch {
    // Not a protobuf we understand: ONNX Runtime will say so with a better message.
  }
  return out;
}

/**
 * Class names from metadata: Ultralytics writes `names` as a Python dict literal
 * ("{0: 'person', 1: 'bicycle'}"); others write a JSON list or object. undefined when absent.
 */
export function classNamesFromMetadata(meta: Readonly<Record<string, string>>): string[] | undefined {
  const raw = meta.names ?? meta.labels ?? meta.classes;
  if (!raw) return undefined;
  const text = raw.trim();
  try {
    const j = JSON.parse(text);
    if (Array.isArray(j) && j.every((s) => typeof s === 'string')) return j;
    if (j && typeof j === 'object') return dictToList(Object.entries(j).map(([k, v]) => [Number(k), String(v)]));
  } catch {
    // fall through to the Python dict form
  }
  const pairs: [number, string][] = [];
  const re = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) pairs.push([Number(m[1]), m[2] ?? m[3]]);
  return pairs.length ? dictToList(pairs) : undefined;
}

function dictToList(pairs: [number, string][]): string[] | undefined {
  if (pairs.some(([k]) => !Number.isInteger(k) || k < 0)) return undefined;
  const out: string[] = [];
  for (const [k, v] of pairs) out[k] = v;
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = `class${i}`;
  return out;
}
