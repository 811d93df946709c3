'use strict';
// Tiny valid ONNX models written by hand (protobuf bytes), for tests that need a real model file
// whose behaviour is known exactly and that loads in milliseconds.

// A minimal valid ONNX model written by hand: ReduceMean over the channel axis turns an image
// [1,3,64,64] into [1,64,64] — a real model whose output matches no detector's shape.
function pb(field, wire, payload) {
  const varint = (n) => {
    const o = [];
    while (n >= 0x80) {
      o.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    o.push(n);
    return o;
  };
  if (wire === 0) return [...varint((field << 3) | 0), ...varint(payload)];
  const bytes = typeof payload === 'string' ? [...Buffer.from(payload)] : payload;
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}
function valueInfo(name, dims) {
  const shape = dims.flatMap((d) => pb(1, 2, pb(1, 0, d)));
  return pb(1, 2, name).concat(pb(2, 2, pb(1, 2, [...pb(1, 0, 1), ...pb(2, 2, shape)])));
}
function reduceMeanModel() {
  const attrAxes = [...pb(1, 2, 'axes'), ...pb(8, 0, 1), ...pb(20, 0, 7)];
  const attrKeep = [...pb(1, 2, 'keepdims'), ...pb(3, 0, 0), ...pb(20, 0, 2)];
  const node = [...pb(1, 2, 'images'), ...pb(2, 2, 'output'), ...pb(4, 2, 'ReduceMean'), ...pb(5, 2, attrAxes), ...pb(5, 2, attrKeep)];
  const graph = [...pb(1, 2, node), ...pb(2, 2, 'g'), ...pb(11, 2, valueInfo('images', [1, 3, 64, 64])), ...pb(12, 2, valueInfo('output', [1, 64, 64]))];
  return Buffer.from([...pb(1, 0, 7), ...pb(8, 2, [...pb(1, 2, ''), ...pb(2, 0, 13)]), ...pb(7, 2, graph)]);
}

// A dynamic-batch "detector" [N,3,64,64] → [N,1,6]: the first six values of channel 0 (the top-left
// pixels' red values, with scale 1) become one end-to-end row x1,y1,x2,y2,score,class. Each frame
// thus carries its own box, and a batched run must hand each camera back its own.
function int64s(name, values) {
  const raw = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), 8 * i));
  return [...pb(1, 0, values.length), ...pb(2, 0, 7), ...pb(8, 2, name), ...pb(9, 2, [...raw])];
}
function batchEchoModel() {
  const dimN = pb(1, 2, pb(2, 2, 'N'));
  const shapeOf = (dims) => dims.flatMap((d) => (d === 'N' ? dimN : pb(1, 2, pb(1, 0, d))));
  const vi = (name, dims) => [...pb(1, 2, name), ...pb(2, 2, pb(1, 2, [...pb(1, 0, 1), ...pb(2, 2, shapeOf(dims))]))];
  const slice = [...pb(1, 2, 'images'), ...pb(1, 2, 'starts'), ...pb(1, 2, 'ends'), ...pb(1, 2, 'axes'), ...pb(2, 2, 'row'), ...pb(4, 2, 'Slice')];
  const reshape = [...pb(1, 2, 'row'), ...pb(1, 2, 'shape'), ...pb(2, 2, 'output'), ...pb(4, 2, 'Reshape')];
  const graph = [
    ...pb(1, 2, slice),
    ...pb(1, 2, reshape),
    ...pb(2, 2, 'g'),
    ...pb(5, 2, int64s('starts', [0, 0, 0])),
    ...pb(5, 2, int64s('ends', [1, 1, 6])),
    ...pb(5, 2, int64s('axes', [1, 2, 3])),
    ...pb(5, 2, int64s('shape', [-1, 1, 6])),
    ...pb(11, 2, vi('images', ['N', 3, 64, 64])),
    ...pb(12, 2, vi('output', ['N', 1, 6])),
  ];
  return Buffer.from([...pb(1, 0, 7), ...pb(8, 2, [...pb(1, 2, ''), ...pb(2, 0, 13)]), ...pb(7, 2, graph)]);
}

module.exports = { reduceMeanModel, batchEchoModel };
