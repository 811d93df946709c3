/**
 * Encoded images (JPEG/PNG/WebP Buffers from MQTT, HTTP, a file node) → rgb24 pixels for the frame
 * store, in sharp's worker threads (off Node-RED's event loop). The header is read first, so an image
 * that claims more than the pixel limit is refused before anything is allocated for it; the decoder
 * then enforces the same limit (`limitInputPixels`). Also `edgevision detect`'s image reader, so the
 * CLI and the node see the same pixels.
 */
import sharp from 'sharp';
import { SourceImage } from './letterbox';
import { MAX_IMAGE_PIXELS, describeBytes, imageKind, pixelLimitError } from './image-bytes';

/**
 * A file or an encoded image → rgb24, EXIF orientation applied (boxes match the picture as people see
 * it), alpha dropped, grey and CMYK converted to sRGB. Rejects with the reason.
 */
export async function decodeToRgb(input: string | Buffer, maxPixels: number = MAX_IMAGE_PIXELS): Promise<SourceImage> {
  const opts = { limitInputPixels: maxPixels, failOn: 'warning' as const };
  // The header only: no limit here, so an oversized image gets our message with its size.
  const meta = await sharp(input, { ...opts, limitInputPixels: false }).metadata();
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  const tooBig = pixelLimitError(w, h, maxPixels);
  if (tooBig) throw new Error(tooBig);
  const { data, info } = await sharp(input, opts).rotate().removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new Error(`decoded to ${info.channels} channels, ${data.length} bytes for ${info.width}×${info.height}; expected RGB`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, format: 'rgb24' };
}

/** vision-detect's msg.payload bytes → rgb24. Only JPEG, PNG and WebP are taken; the error says what arrived instead. */
export async function decodeImagePayload(bytes: Uint8Array, maxPixels: number = MAX_IMAGE_PIXELS): Promise<SourceImage> {
  if (bytes.length === 0) throw new Error('msg.payload is an empty Buffer, not an image');
  const kind = imageKind(bytes);
  if (!kind) throw new Error(`msg.payload is not a JPEG, PNG or WebP image (${describeBytes(bytes)})`);
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return await decodeToRgb(buf, maxPixels);
  } catch (e) {
    throw new Error(`cannot use the ${kind.toUpperCase()} image (${bytes.length} bytes): ${(e as Error).message}`);
  }
}
