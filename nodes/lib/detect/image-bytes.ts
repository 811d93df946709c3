/**
 * Checks on an encoded image before anything decodes it: which format its first bytes say it is
 * (JPEG, PNG or WebP: what cameras, MQTT and HTTP clients send), and whether its size is within the
 * pixel limit. Each refusal says what was wrong in words an integrator can act on.
 */

export type ImageKind = 'jpeg' | 'png' | 'webp';

/** Default pixel limit: 50 MP, above any industrial camera here and far below a decompression bomb's claim. */
export const MAX_IMAGE_PIXELS = 50_000_000;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

/** The format named by the first bytes, or undefined for anything else. */
export function imageKind(b: Uint8Array): ImageKind | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(b, PNG)) return 'png';
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp'; // RIFF....WEBP
  return undefined;
}

/** "12 bytes starting 68 65 6c 6c ("hell")": what an unrecognised payload looks like. */
export function describeBytes(b: Uint8Array): string {
  const head = Array.from(b.subarray(0, 4));
  const hex = head.map((v) => v.toString(16).padStart(2, '0')).join(' ');
  const text = head.every((v) => v >= 0x20 && v < 0x7f) ? ` ("${String.fromCharCode(...head)}")` : '';
  return `${b.length} byte${b.length === 1 ? '' : 's'}${head.length ? ` starting ${hex}${text}` : ''}`;
}

/** Why an image of this size is refused, or undefined when it is within `maxPixels`. */
export function pixelLimitError(width: number, height: number, maxPixels: number = MAX_IMAGE_PIXELS): string | undefined {
  if (!(width > 0) || !(height > 0)) return `the image header gives no size (${width}×${height})`;
  if (width * height <= maxPixels) return undefined;
  const mp = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(2)} MP` : `${n} pixels`);
  return `the image is ${width}×${height} (${mp(width * height)}), more than the ${mp(maxPixels)} limit`;
}
