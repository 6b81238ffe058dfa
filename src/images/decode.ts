import { defaultFormats } from 'jimp';
import { UndecodableImage } from '../errors/errors';
import { type GrayImage, rgbaToGray } from './gray';
import { checkDimensions, type AcceptedImageFormat, type ImageLimits } from './limits';
import { applyOrientation, type RgbaImage } from './orientation';
import { type ImageHeader, sniffImage } from './sniff';

export type { RgbaImage } from './orientation';

/** What a jimp format plugin's decoder returns. */
interface DecodedBitmap {
  width: number;
  height: number;
  data: Uint8Array;
}
type Decoder = (data: Buffer, options?: Record<string, unknown>) => DecodedBitmap | Promise<DecodedBitmap>;

const MIME: Record<AcceptedImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  bmp: 'image/bmp',
  gif: 'image/gif',
  tiff: 'image/tiff',
};

let decoders: Map<string, Decoder> | undefined;

/**
 * jimp's own format plugins (pngjs, jpeg-js, bmp-ts, omggif, utif2). They are called directly
 * rather than through `Jimp.fromBuffer`, which would detect the format again with a dynamic
 * `import('file-type')` (fails under Jest's VM without --experimental-vm-modules) when the sniffer
 * has already identified it; the EXIF rotation `fromBuffer` would apply is done by
 * `applyOrientation` instead.
 */
function decoderFor(format: AcceptedImageFormat): Decoder {
  decoders ??= new Map(defaultFormats.map((make) => make()).map((f) => [f.mime as string, f.decode as unknown as Decoder]));
  const decoder = decoders.get(MIME[format]);
  if (decoder === undefined) throw new Error(`jimp has no decoder for ${MIME[format]}`);
  return decoder;
}

/**
 * Sniffs, checks the limits from the header, decodes (PNG, JPEG, BMP, GIF first frame, TIFF first
 * page) and turns JPEGs upright per their EXIF orientation.
 * Errors: `UnsupportedImage` 415, `ImageTooLarge` 413, `UnusableImage` 422 (a side < minSide),
 * `UndecodableImage` 400 (recognised format, corrupt or truncated data).
 */
export async function decodeToRgba(bytes: Uint8Array, limits: ImageLimits): Promise<RgbaImage> {
  const header = sniffImage(bytes);
  checkDimensions(header.width, header.height, limits);
  const label = header.format.toUpperCase();
  let bitmap: DecodedBitmap;
  try {
    bitmap = await decoderFor(header.format)(decoderInput(bytes, header), decoderOptions(header.format, limits));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new UndecodableImage(`The ${label} data could not be decoded (${reason}); the file may be truncated or corrupt.`);
  }
  const { width, height, data } = bitmap;
  if (width !== header.width || height !== header.height || data.length !== width * height * 4) {
    throw new UndecodableImage(`The ${label} header declares ${header.width}x${header.height} but ${width}x${height} pixels were decoded.`);
  }
  const rgba = { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  return header.orientation === undefined ? rgba : applyOrientation(rgba, header.orientation);
}

/** Decodes to grayscale 0..1 (0 = black), alpha flattened onto white. Same errors as `decodeToRgba`. */
export async function decodeToGray(bytes: Uint8Array, limits: ImageLimits): Promise<GrayImage> {
  return rgbaToGray(await decodeToRgba(bytes, limits));
}

function decoderOptions(format: AcceptedImageFormat, limits: ImageLimits): Record<string, unknown> | undefined {
  if (format !== 'jpeg') return undefined;
  // jpeg-js's own guards, kept above our limit so that only `limits` decides. tolerantDecoding
  // stays on (its default): it accepts slightly malformed camera files, and it still throws
  // ("marker was not found") on a file cut short.
  return {
    maxResolutionInMP: Math.max(100, Math.ceil(limits.maxPixels / 1e6)),
    maxMemoryUsageInMB: Math.max(512, Math.ceil((limits.maxPixels * 12) / 2 ** 20)),
  };
}

/** The bytes the decoder gets: for TIFF a copy whose first IFD has no successor, so only page 1 (size-checked) is decoded. */
function decoderInput(bytes: Uint8Array, header: ImageHeader): Buffer {
  if (header.tiffNextIfdPointer === undefined) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const copy = Buffer.from(bytes);
  copy.fill(0, header.tiffNextIfdPointer, header.tiffNextIfdPointer + 4);
  return copy;
}
