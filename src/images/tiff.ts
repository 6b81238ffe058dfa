import { HeaderError, UnsupportedVariant, positive, type Reader } from './binary';
import { orientationOf, validOrientation } from './exif';
import type { Probe } from './probe';
import { readIfd, tagValues, tiffStructure, type Ifd } from './tiff-ifd';
import { CMYK, JPEG, T } from './tiff-tags';

/**
 * The TIFF variants accepted, on both decoder paths: those utif2 (the jimp path) decodes into the
 * right pixels. libvips reads more (planar, float, BigTIFF, ...), but a server answers the same
 * whichever decoder it runs, so the others are refused by name (415) on both.
 * Compressions: none, CCITT RLE/G3/G4, LZW, Deflate (two codes), PackBits and JPEG.
 */
const COMPRESSIONS = new Set([1, 2, 3, 4, 5, 7, 8, 32946, 32773]);

/** Photometric interpretations -> the samples per pixel and bit depths utif2's RGBA conversion gets right. */
const DECODED: Record<number, { name: string; samples: readonly number[]; bits: readonly number[] }> = {
  0: { name: 'white-is-zero greyscale', samples: [1], bits: [1, 4, 8, 16] },
  1: { name: 'greyscale', samples: [1], bits: [1, 2, 8, 16] },
  2: { name: 'RGB', samples: [3, 4], bits: [8, 16] },
  3: { name: 'palette', samples: [1], bits: [1, 2, 4, 8] },
  5: { name: 'CMYK', samples: [4], bits: [8, 16] },
  6: { name: 'YCbCr', samples: [3], bits: [8] },
};

const PHOTOMETRIC_NAME: Record<number, string> = {
  4: 'a transparency mask',
  8: 'CIE L*a*b* colour',
  9: 'ICC L*a*b* colour',
  10: 'ITU L*a*b* colour',
  32803: 'a colour filter array (camera raw)',
  32844: 'LogL colour',
  32845: 'LogLuv colour',
  34892: 'linear raw colour',
};

/**
 * TIFF header: the first page's size and orientation, and its variant checked (see COMPRESSIONS).
 * Decoded by libvips (first page) or, on the jimp path, by utif2 in a decode thread with a time
 * bound (decode-thread.ts); the orientation tag is applied afterwards.
 */
export function probeTiff(b: Uint8Array): Probe {
  const info = readTiffInfo(b);
  return { header: { format: 'tiff', width: info.width, height: info.height, ...orientationOf(info.orientation) } };
}

function readTiffInfo(b: Uint8Array): { width: number; height: number; orientation: number } {
  const structure = tiffStructure(b);
  if (structure === undefined) throw new HeaderError('there is no TIFF header');
  const { r, firstIfd } = structure;
  const ifd = readIfd(b, r, firstIfd);
  const tag = (t: number, fallback: number[] = []) => tagValues(b, r, ifd, t, fallback);
  const width = tag(T.width)[0] ?? 0;
  const height = tag(T.height)[0] ?? 0;
  positive(width, height);

  const compression = tag(T.compression, [1])[0]!;
  const photometric = tag(T.photometric, [tag(T.bitsPerSample, [1])[0] === 1 ? 0 : 2])[0]!;
  const samples = tag(T.samplesPerPixel, [1])[0]!;
  const bits = tag(T.bitsPerSample, [1]);
  checkVariant(b, r, ifd, { compression, photometric, samples, bits });

  return { width, height, orientation: validOrientation(tag(T.orientation, [1])[0]) };
}

function checkVariant(
  b: Uint8Array,
  r: Reader,
  ifd: Ifd,
  { compression, photometric, samples, bits }: { compression: number; photometric: number; samples: number; bits: number[] },
): void {
  const tag = (t: number, fallback: number[]) => tagValues(b, r, ifd, t, fallback);
  if (compression === 6) throw new UnsupportedVariant('old-style JPEG compression (6)');
  if (!COMPRESSIONS.has(compression)) throw new UnsupportedVariant(`compression ${compression}`);
  const format = tag(T.sampleFormat, [1]);
  if (format.some((f) => f === 3)) throw new UnsupportedVariant('floating-point samples');
  if (format.some((f) => f !== 1)) throw new UnsupportedVariant('signed or undefined sample values');
  if (samples > 1 && tag(T.planarConfig, [1])[0] === 2) throw new UnsupportedVariant('planar (separate) colour planes');
  const predictor = tag(T.predictor, [1])[0];
  if (predictor !== 1 && predictor !== 2) throw new UnsupportedVariant(`predictor ${predictor}`);
  if (bits.some((x) => x !== bits[0])) throw new UnsupportedVariant(`mixed bit depths (${bits.join(', ')})`);

  const decoded = DECODED[photometric];
  if (decoded === undefined) throw new UnsupportedVariant(PHOTOMETRIC_NAME[photometric] ?? `photometric interpretation ${photometric}`);
  if (photometric === 1 && samples === 2) throw new UnsupportedVariant('greyscale with alpha');
  if (!decoded.samples.includes(samples)) throw new UnsupportedVariant(`${decoded.name} with ${samples} samples per pixel`);
  if (!decoded.bits.includes(bits[0]!)) throw new UnsupportedVariant(`${bits[0]}-bit ${decoded.name}`);
  if (photometric === CMYK && tag(T.inkSet, [1])[0] !== 1) throw new UnsupportedVariant('inks other than CMYK');
  // utif2's JPEG path always produces three channels: only colour JPEG strips come out right.
  if (compression === JPEG && !(samples === 3 && (photometric === 2 || photometric === 6))) {
    throw new UnsupportedVariant(`JPEG-compressed ${decoded.name}`);
  }
  if (photometric === 6 && compression !== JPEG) throw new UnsupportedVariant('YCbCr samples without JPEG compression');
}

