/**
 * The built-in appearance descriptor for gateways without a re-id model: HSV colour histograms over
 * horizontal body stripes (the "ensemble of localised features" idea of Gray & Tao, ECCV 2008, and the
 * stripe layout of LOMO/ELF descriptors). Per stripe, chromatic pixels vote into a hue × saturation
 * grid and weakly coloured ones into brightness bins (hue is noise for grey, black and white clothes);
 * each stripe is square-rooted (Hellinger) so one dominant colour does not drown the rest, and the
 * whole is L2-normalised so cosine similarity compares two people. Cheap: a bounded pixel sample.
 */
import { Box } from '../types';
import { SourceImage } from '../detect/letterbox';
import { clipBox } from './crop';
import { l2normalise } from '../vector';

export interface ColourOptions {
  /** Horizontal stripes from head to feet. */
  stripes: number;
  hueBins: number;
  satBins: number;
  /** Brightness bins for pixels with saturation below `greySaturation`. */
  greyBins: number;
  /** Saturation (0..1) below which a pixel counts as grey. */
  greySaturation: number;
  /** Fraction of the box width cut from each side (background around a walking person). */
  trimX: number;
  /** Pixels sampled per crop at most (a stride is chosen to stay under it). */
  maxSamples: number;
}

export const DEFAULT_COLOUR: Readonly<ColourOptions> = Object.freeze({
  stripes: 6,
  hueBins: 8,
  satBins: 3,
  greyBins: 4,
  greySaturation: 0.2,
  trimX: 0.15,
  maxSamples: 4000,
});

export function resolveColourOptions(o: Partial<ColourOptions> = {}): ColourOptions {
  const r = { ...DEFAULT_COLOUR, ...o };
  for (const k of ['stripes', 'hueBins', 'satBins', 'greyBins', 'maxSamples'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new Error(`colour descriptor option ${k} must be a whole number ≥ 1, got ${JSON.stringify(r[k])}`);
  }
  if (!(r.greySaturation >= 0 && r.greySaturation < 1)) throw new Error(`colour descriptor option greySaturation must be in [0, 1), got ${r.greySaturation}`);
  if (!(r.trimX >= 0 && r.trimX < 0.5)) throw new Error(`colour descriptor option trimX must be in [0, 0.5), got ${r.trimX}`);
  return r;
}

export function colourDimension(o: ColourOptions): number {
  return o.stripes * (o.hueBins * o.satBins + o.greyBins);
}

/** The descriptor of one box (L2-normalised). Throws when the box misses the frame. */
export function colourDescriptor(img: SourceImage, box: Box, o: ColourOptions = DEFAULT_COLOUR): Float32Array {
  if (img.format === 'gray8') throw new Error('the colour descriptor needs a colour frame (rgb24 or bgr24)');
  const c = clipBox(box, img.width, img.height);
  if (!c) throw new Error(`box [${box.join(', ')}] is outside the ${img.width}×${img.height} frame`);
  const trim = Math.floor((c[2] - c[0]) * o.trimX);
  const x1 = c[0] + trim;
  const x2 = Math.max(x1 + 1, c[2] - trim);
  const y1 = c[1];
  const y2 = c[3];
  const area = (x2 - x1) * (y2 - y1);
  const step = Math.max(1, Math.ceil(Math.sqrt(area / o.maxSamples)));
  const perStripe = o.hueBins * o.satBins + o.greyBins;
  const hist = new Float32Array(o.stripes * perStripe);
  const [ri, bi] = img.format === 'rgb24' ? [0, 2] : [2, 0];
  const { data, width } = img;
  const h = y2 - y1;
  for (let y = y1; y < y2; y += step) {
    const stripe = Math.min(o.stripes - 1, Math.floor(((y - y1) * o.stripes) / h));
    const base = stripe * perStripe;
    for (let x = x1; x < x2; x += step) {
      const p = (y * width + x) * 3;
      const r = data[p + ri] / 255,
        g = data[p + 1] / 255,
        b = data[p + bi] / 255;
      const max = Math.max(r, g, b),
        min = Math.min(r, g, b);
      const v = max;
      const s = max > 0 ? (max - min) / max : 0;
      // Dark pixels have unreliable hue whatever their saturation.
      if (s < o.greySaturation || v < 0.15) {
        hist[base + o.hueBins * o.satBins + Math.min(o.greyBins - 1, Math.floor(v * o.greyBins))] += 1;
        continue;
      }
      const d = max - min;
      let hue: number;
      if (max === r) hue = ((g - b) / d + 6) % 6;
      else if (max === g) hue = (b - r) / d + 2;
      else hue = (r - g) / d + 4;
      const hb = Math.min(o.hueBins - 1, Math.floor((hue / 6) * o.hueBins));
      const sb = Math.min(o.satBins - 1, Math.floor(((s - o.greySaturation) / (1 - o.greySaturation)) * o.satBins));
      hist[base + hb * o.satBins + sb] += 1;
    }
  }
  // Per-stripe L1 then square root (Hellinger): stripes weigh the same whatever their pixel count.
  for (let s = 0; s < o.stripes; s++) {
    let sum = 0;
    for (let i = 0; i < perStripe; i++) sum += hist[s * perStripe + i];
    if (sum > 0) for (let i = 0; i < perStripe; i++) hist[s * perStripe + i] = Math.sqrt(hist[s * perStripe + i] / sum);
  }
  return l2normalise(hist);
}
