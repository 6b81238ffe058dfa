import { defaultFormats } from 'jimp';
import type { RgbaImage } from './orientation';

/** What a jimp format plugin's decoder returns. */
interface DecodedBitmap {
  width: number;
  height: number;
  data: Uint8Array;
}
type Decoder = (data: Buffer, options?: Record<string, unknown>) => DecodedBitmap | Promise<DecodedBitmap>;

/** The jimp codecs used here (BMP and GIF have their own decoders: bmp.ts, gif.ts). */
const MIME = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  tiff: 'image/tiff',
} as const;

export type JimpFormat = keyof typeof MIME;

let decoders: Map<string, Decoder> | undefined;

/**
 * Decodes with jimp's own format plugins (pngjs, jpeg-js, utif2), called directly rather than
 * through `Jimp.fromBuffer`, which would detect the format again with a dynamic `import('file-type')`
 * (fails under Jest's VM without --experimental-vm-modules) when the sniffer has already identified it,
 * and would apply EXIF rotation that `applyOrientation` does instead.
 */
export async function jimpDecode(
  format: JimpFormat,
  data: Buffer,
  options?: Record<string, unknown>,
  { quiet = false }: { quiet?: boolean } = {},
): Promise<RgbaImage> {
  decoders ??= new Map(defaultFormats.map((make) => make()).map((f) => [f.mime as string, f.decode as unknown as Decoder]));
  const decoder = decoders.get(MIME[format]);
  if (decoder === undefined) throw new Error(`jimp has no decoder for ${MIME[format]}`);
  const pending = quiet ? withoutConsoleLog(() => decoder(data, options)) : decoder(data, options);
  const { width, height, data: pixels } = await pending;
  return { width, height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length) };
}

/**
 * Runs `f` with console.log silenced, for a codec that prints progress with it (utif2 prints
 * "==== <tiles across> <tiles down>" for every tiled TIFF), which would land in the server's log
 * stream. Only for codecs whose work is synchronous: nothing else can run, and log, meanwhile.
 */
function withoutConsoleLog<T>(f: () => T): T {
  const log = console.log;
  console.log = () => undefined;
  try {
    return f();
  } finally {
    console.log = log;
  }
}

/** `bytes` as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
