import { Jimp } from 'jimp';
import { decodeToRgba } from '../../src/images';
import { TEST_LIMITS } from './format-fixtures';

/**
 * A Jimp image of an encoded file, decoded by the project's own decoder (Jimp.read would detect
 * the format with a dynamic import() that jest refuses without --experimental-vm-modules).
 */
export async function jimpOf(bytes: Uint8Array) {
  const { width, height, data } = await decodeToRgba(bytes, TEST_LIMITS);
  // A copy with its own ArrayBuffer: jimp reads the whole underlying buffer, and a small
  // Buffer.from() would hand it Node's shared 8 KiB pool.
  return Jimp.fromBitmap({ width, height, data: Buffer.from(new Uint8Array(data).buffer) });
}

/** A 28x28 MNIST-style PNG from 784 values in 0..1. */
export async function pngOfPixels(pixels: Float32Array): Promise<Buffer> {
  const image = new Jimp({ width: 28, height: 28 });
  pixels.forEach((v, i) => {
    const g = Math.round(v * 255);
    image.bitmap.data.set([g, g, g, 255], i * 4);
  });
  return image.getBuffer('image/png');
}

export async function solidImage(mime: 'image/png' | 'image/jpeg', width: number, height: number, rgba: number): Promise<Buffer> {
  return new Jimp({ width, height, color: rgba }).getBuffer(mime);
}
