/*
 * Letterbox kernel for vision-detect, compiled to WebAssembly with SIMD (scripts/build-wasm.sh).
 * The same resampling as letterboxInto() in ../letterbox.ts (pixel-centre aligned bilinear, OpenCV
 * INTER_LINEAR; nearest = the same tables with 0/1 weights), written separably so the arithmetic is
 * four channels at a time: each source row that an output row needs is resampled horizontally once
 * (rows are cached, consecutive output rows share them), then pairs of rows are blended vertically
 * and written as planar float32 with scale/mean/std folded into one multiply-add.
 *
 * Memory is laid out by the JS side (letterbox-wasm.ts); every pointer here is into this module's
 * linear memory. No allocation, no libc.
 */
#include <stdint.h>
#include <wasm_simd128.h>

/*
 * One pixel's channels as four floats. Reads 4 bytes (the rgb row pass reads 8): the source needs 8
 * bytes of slack at its end.
 * Bytes → floats by the 2^23 trick (OR the integer into the mantissa of 8388608.0f, subtract it): exact
 * for 0..255, and it stays in SIMD, where a plain int → float conversion is scalarised by clang here.
 */
static inline v128_t pixel(const uint8_t *p) {
  v128_t v = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p)));
  return wasm_f32x4_sub(wasm_v128_or(v, wasm_i32x4_splat(0x4B000000)), wasm_f32x4_splat(8388608.0f));
}

/* Horizontal pass of one source row into dst (4 floats per output column). */
static void resample_row(const uint8_t *row, const int32_t *x0, const int32_t *x1, const float *wx, int iw, float *dst) {
  for (int x = 0; x < iw; x++) {
    v128_t p = pixel(row + x0[x]);
    v128_t q = pixel(row + x1[x]);
    v128_t w = wasm_f32x4_splat(wx[x]);
    wasm_v128_store(dst + 4 * x, wasm_f32x4_add(p, wasm_f32x4_mul(wasm_f32x4_sub(q, p), w)));
  }
}

/*
 * The same for packed 3-byte pixels whose second tap is always the next pixel (x1 = x0 + 3; the
 * JS side arranges the tables so): one 8-byte load holds both taps, and one shuffle each spreads a
 * tap's bytes into the mantissas of 2^23-biased floats (the bias bytes come from the constant).
 */
static void resample_row_rgb(const uint8_t *row, const int32_t *x0, const float *wx, int iw, float *dst) {
  const v128_t bias = wasm_i32x4_splat(0x4B000000);
  const v128_t big = wasm_f32x4_splat(8388608.0f);
  for (int x = 0; x < iw; x++) {
    v128_t v = wasm_v128_load64_zero(row + x0[x]);
    v128_t p = wasm_i8x16_shuffle(v, bias, 0, 16, 16, 19, 1, 16, 16, 19, 2, 16, 16, 19, 3, 16, 16, 19);
    v128_t q = wasm_i8x16_shuffle(v, bias, 3, 16, 16, 19, 4, 16, 16, 19, 5, 16, 16, 19, 6, 16, 16, 19);
    p = wasm_f32x4_sub(p, big);
    q = wasm_f32x4_sub(q, big);
    v128_t w = wasm_f32x4_splat(wx[x]);
    wasm_v128_store(dst + 4 * x, wasm_f32x4_add(p, wasm_f32x4_mul(wasm_f32x4_sub(q, p), w)));
  }
}

/* Vertical blend of two resampled rows, scaled, each lane written to its plane (constant lanes per order). */
#define BLEND_LOOP(L0, L1, L2)                                                             \
  for (int x = 0; x < iw; x++) {                                                           \
    v128_t a = wasm_v128_load(ra + 4 * x);                                                 \
    v128_t b = wasm_v128_load(rb + 4 * x);                                                 \
    v128_t v = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_sub(b, a), wy));                \
    v = wasm_f32x4_add(wasm_f32x4_mul(v, mul), add);                                       \
    o0[x] = wasm_f32x4_extract_lane(v, L0);                                                \
    o1[x] = wasm_f32x4_extract_lane(v, L1);                                                \
    o2[x] = wasm_f32x4_extract_lane(v, L2);                                                \
  }

/*
 * src: the frame (sw × sh, bpp bytes a pixel), rows of stride sw·bpp.
 * x0/x1/wx: per output column, byte offsets of the two taps within a row and the weight of the second.
 * y0/y1/wy: per output row, the two source rows and the weight of the second.
 * rows: scratch, 2 × iw × 4 floats. out: 3 planes of dw × dh floats.
 * lanes[k]: the source channel (0..2) that plane k takes. coef: a0,a1,a2,b0,b1,b2 per plane k; pad[k].
 * adjacent: bpp is 3 and x1[x] == x0[x] + 3 for every column (the faster row pass applies).
 */
__attribute__((export_name("letterbox")))
void letterbox(const uint8_t *src, int sw, int bpp,
               const int32_t *x0, const int32_t *x1, const float *wx,
               const int32_t *y0, const int32_t *y1, const float *wy_,
               int iw, int ih, float *rows,
               float *out, int dw, int dh, int padX, int padY,
               const int32_t *lanes, const float *coef, const float *pad, int adjacent) {
  const int plane = dw * dh;
  const int stride = sw * bpp;
  /* Padding: rows above and below, then the columns beside the image. */
  for (int k = 0; k < 3; k++) {
    float *o = out + k * plane;
    const float v = pad[k];
    for (int i = 0; i < padY * dw; i++) o[i] = v;
    for (int i = (padY + ih) * dw; i < plane; i++) o[i] = v;
    for (int y = padY; y < padY + ih; y++) {
      for (int x = 0; x < padX; x++) o[y * dw + x] = v;
      for (int x = padX + iw; x < dw; x++) o[y * dw + x] = v;
    }
  }
  /* Per-lane multiply-add: the lane plane k reads gets plane k's coefficients. */
  float m[4] = {1, 1, 1, 1}, s[4] = {0, 0, 0, 0};
  for (int k = 0; k < 3; k++) {
    m[lanes[k]] = coef[k];
    s[lanes[k]] = coef[3 + k];
  }
  const v128_t mul = wasm_v128_load(m), add = wasm_v128_load(s);
  const int order = lanes[0] == 0 && lanes[1] == 1 && lanes[2] == 2 ? 0 : lanes[0] == 2 && lanes[1] == 1 && lanes[2] == 0 ? 1 : 2;

  float *ra = rows, *rb = rows + 4 * iw;
  int rowA = -1, rowB = -1;
  for (int dy = 0; dy < ih; dy++) {
    const int r0 = y0[dy], r1 = y1[dy];
    if (rowA != r0) {
      if (rowB == r0) { float *t = ra; ra = rb; rb = t; rowA = r0; rowB = -1; }
      else {
        if (adjacent) resample_row_rgb(src + (long)r0 * stride, x0, wx, iw, ra);
        else resample_row(src + (long)r0 * stride, x0, x1, wx, iw, ra);
        rowA = r0;
      }
    }
    if (rowB != r1) {
      if (adjacent) resample_row_rgb(src + (long)r1 * stride, x0, wx, iw, rb);
      else resample_row(src + (long)r1 * stride, x0, x1, wx, iw, rb);
      rowB = r1;
    }
    const v128_t wy = wasm_f32x4_splat(wy_[dy]);
    float *o0 = out + (dy + padY) * dw + padX, *o1 = o0 + plane, *o2 = o1 + plane;
    if (order == 0) { BLEND_LOOP(0, 1, 2) }
    else if (order == 1) { BLEND_LOOP(2, 1, 0) }
    else {
      /* Any other mapping (grey: one channel into all three planes): per-plane coefficients, scalar. */
      float t[4];
      for (int x = 0; x < iw; x++) {
        v128_t a = wasm_v128_load(ra + 4 * x);
        v128_t b = wasm_v128_load(rb + 4 * x);
        wasm_v128_store(t, wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_sub(b, a), wy)));
        o0[x] = t[lanes[0]] * coef[0] + coef[3];
        o1[x] = t[lanes[1]] * coef[1] + coef[4];
        o2[x] = t[lanes[2]] * coef[2] + coef[5];
      }
    }
  }
}
