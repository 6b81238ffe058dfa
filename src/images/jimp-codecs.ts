import { defaultFormats } from 'jimp';
import type { RgbaImage } from './orientation';

/** What a jimp format plugin's decoder returns. */
interface DecodedBitmap {
  width: number;
  height: number;
  data: Uint8Array;
}
type Decoder = (data: Buffer, options?: Record<string, unknown>) => DecodedBitmap | Promise<DecodedBitmap>;

/**
 * The jimp codecs called in this thread: pngjs and jpeg-js. (BMP has its own decoder, bmp.ts; jimp's
 * GIF and TIFF codecs run in a decode thread with a time bound, decode-thread.ts.)
 */
const MIME = {
  png: 'image/png',
  jpeg: 'image/jpeg',
} as const;

export type JimpFormat = keyof typeof MIME;

let decoders: Map<string, Decoder> | undefined;

/**
 * Decodes with jimp's own format plugins (pngjs, jpeg-js, utif2), called directly rather than
 * through `Jimp.fromBuffer`, which would detect the format again with a dynamic `import('file-type')`
 * (fails under Jest's VM without --experimental-vm-modules) when the sniffer has already identified it,
 * and would apply EXIF rotation that `applyOrientation` does instead.
 */
export async function jimpDecode(format: JimpFormat, data: Buffer, options?: Record<string, unknown>): Promise<RgbaImage> {
  decoders ??= new Map(defaultFormats.map((make) => make()).map((f) => [f.mime as string, f.decode as unknown as Decoder]));
  const decoder = decoders.get(MIME[format]);
  if (decoder === undefined) throw new Error(`jimp has no decoder for ${MIME[format]}`);
  const { width, height, data: pixels } = await decoder(data, options);
  return { width, height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length) };
}

/** `bytes` as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
