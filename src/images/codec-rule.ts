import type { AcceptedImageFormat, ImageDecoderName } from './formats';
import type { ImageLimits } from './limits';
import { loadSharp } from './sharp-loader';

/**
 * Who decodes an upload:
 *  - `libvips`: sharp, in this thread's libuv pool, with shrink-on-load;
 *  - `pngjs`, `jpeg-js`: jimp's pure-JS codecs, in this thread (png.ts, jpeg.ts);
 *  - `bmp`: bmp.ts, in this thread;
 *  - `libheif`: heic-decode (libheif in WebAssembly), in a decode thread (decode-thread.ts);
 *  - `jimp-thread`: jimp's GIF (omggif) and TIFF (utif2) codecs, in a decode thread.
 */
export type Codec = 'libvips' | 'pngjs' | 'jpeg-js' | 'bmp' | 'libheif' | 'jimp-thread';

/**
 * PNGs up to this many pixels are decoded by pngjs even when sharp is on. Measured here (one
 * thread, warm): pngjs 0.34 / 0.45 / 0.87 / 2.8 ms for 64 / 128 / 181 / 256 px squares, libvips
 * 1.25 / 1.33 / 1.54 / 2.7 ms (its per-call cost is about 1.2 ms): pngjs wins up to about 200x200.
 * MNIST digits (28x28) stay on pngjs, as before sharp.
 */
export const SMALL_PNG_PIXELS = 200 * 200;

/**
 * JPEGs up to this many pixels are decoded by jpeg-js even when sharp is on: on the 187 JPEG digits
 * of test/fixtures/digits-realworld (40-600 px), jpeg-js took 5.4 ms per image and libvips 10.7 ms
 * (one thread; the machine was shared, load average 12: libvips' hand-offs to its thread pool
 * suffer most from that). Photos (the 375x500 fixture is 187,500 px) go to libvips.
 */
export const SMALL_JPEG_PIXELS = 256 * 256;

/** The decoder family in use: the one configured, else sharp where it loads, else jimp. */
export function activeDecoder(limits: Pick<ImageLimits, 'decoder'>): ImageDecoderName {
  return limits.decoder ?? (loadSharp() !== undefined ? 'sharp' : 'jimp');
}

/**
 * The one rule for which codec decodes an upload, by format, declared pixel count, decoder family,
 * and two header facts: a JPEG's colour model, whether a GIF's first frame fills its canvas.
 * BMP keeps its own decoder on both paths: libvips has no BMP loader (sharp's prebuilt reads BMP
 * only through ImageMagick, which it does not ship). HEIC goes to libheif on both paths: sharp's
 * prebuilt libvips has libheif without an HEVC decoder (it reads AVIF only). WebP and AVIF never
 * reach here on the jimp path (the sniffer refuses them there).
 */
export function codecFor(
  format: AcceptedImageFormat,
  pixels: number,
  decoder: ImageDecoderName,
  { cmyk = false, partialFrame = false }: { cmyk?: boolean; partialFrame?: boolean } = {},
): Codec {
  if (format === 'bmp') return 'bmp';
  if (format === 'heic') return 'libheif';
  // libvips converts an untagged CMYK JPEG through a print (SWOP) profile, which moves saturated
  // colours by up to ~115 levels from what browsers show (a plain inversion, as jpeg-js does).
  if (format === 'jpeg' && cmyk) return 'jpeg-js';
  // libvips paints a GIF canvas the first frame does not cover with the screen's background
  // colour; browsers (and omggif) leave it transparent, i.e. white here.
  if (format === 'gif' && partialFrame) return 'jimp-thread';
  if (decoder === 'sharp') {
    if (format === 'png' && pixels <= SMALL_PNG_PIXELS) return 'pngjs';
    if (format === 'jpeg' && pixels <= SMALL_JPEG_PIXELS) return 'jpeg-js';
    return 'libvips';
  }
  if (format === 'png') return 'pngjs';
  if (format === 'jpeg') return 'jpeg-js';
  if (format === 'gif' || format === 'tiff') return 'jimp-thread';
  throw new Error(`No ${decoder} codec for ${format}`);
}
