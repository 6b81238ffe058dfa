import { HeaderError, UnsupportedVariant, ascii, need, positive, startsWith, u16be } from './binary';
import { exifOrientation, orientationOf } from './exif';
import { jimpDecode } from './jimp-codecs';
import type { ImageLimits } from './limits';
import type { Probe } from './probe';

/** What the marker segments before the first frame header say. */
export interface JpegInfo {
  /** The SOFn marker (0xc0-0xcf): the coding process. */
  sof: number;
  precision: number;
  width: number;
  height: number;
  /** Component identifiers, in frame order. */
  components: number[];
  jfif: boolean;
  /** The colour transform of an Adobe APP14 segment (0 none, 1 YCbCr, 2 YCCK); undefined without one. */
  adobeTransform?: number;
  /** EXIF orientation, 1 when absent. */
  orientation: number;
}

/** SOFn markers jpeg-js decodes: baseline, extended sequential and progressive, all Huffman-coded. */
const DECODED_SOF = new Set([0xc0, 0xc1, 0xc2]);

/** Why any other SOFn is refused. */
const SOF_NAME: Record<number, string> = {
  0xc3: 'lossless coding (SOF3)',
  0xc5: 'hierarchical coding (SOF5)',
  0xc6: 'hierarchical coding (SOF6)',
  0xc7: 'hierarchical lossless coding (SOF7)',
  0xc9: 'arithmetic coding (SOF9)',
  0xca: 'progressive arithmetic coding (SOF10)',
  0xcb: 'lossless arithmetic coding (SOF11)',
  0xcd: 'hierarchical arithmetic coding (SOF13)',
  0xce: 'hierarchical arithmetic coding (SOF14)',
  0xcf: 'hierarchical lossless arithmetic coding (SOF15)',
};

/**
 * JPEG via jpeg-js: baseline and progressive, greyscale, YCbCr, RGB, CMYK and YCCK (Adobe), restart
 * markers; EXIF orientation applied afterwards. jpeg-js guesses the colour model from the Adobe
 * segment alone; `decoderInput` and `colorTransform` make it follow the rules libjpeg follows.
 */
export function probeJpeg(b: Uint8Array): Probe {
  const info = readJpegInfo(b);
  if (!DECODED_SOF.has(info.sof)) throw new UnsupportedVariant(SOF_NAME[info.sof] ?? `frame type 0x${info.sof.toString(16)}`);
  if (info.precision !== 8) throw new UnsupportedVariant(`${info.precision}-bit samples`);
  const n = info.components.length;
  if (n !== 1 && n !== 3 && n !== 4) throw new UnsupportedVariant(`${n} colour components`);
  return {
    checkData: () => checkDataCanHold(b, info),
    header: { format: 'jpeg', width: info.width, height: info.height, ...(n === 4 ? { cmyk: true } : {}), ...orientationOf(info.orientation) },
    decodeJs: (limits) => jimpDecode('jpeg', decoderInput(b, info), decoderOptions(info, limits)),
  };
}

/**
 * Every 8x8 block of a JPEG costs at least one bit of entropy-coded data (its DC difference, in
 * baseline and progressive alike), so a file shorter than one bit per luma block cannot hold the
 * image its header declares: a few hundred bytes declaring 6000x6000 are refused here, in
 * microseconds, instead of having a decoder allocate and fill 36 MP. A photo with only its tail
 * missing is far above this bound and still decodes.
 */
function checkDataCanHold(b: Uint8Array, info: JpegInfo): void {
  // No scan at all is no picture (libvips would return a blank grey one).
  if (!hasScan(b)) throw new HeaderError('there is no image data (no SOS marker)');
  const blocks = Math.ceil(info.width / 8) * Math.ceil(info.height / 8);
  if (b.length * 8 < blocks) {
    throw new HeaderError(`${b.length} bytes cannot hold the ${info.width}x${info.height} image it declares (at least ${Math.ceil(blocks / 8)} bytes)`);
  }
}

/** Whether a start-of-scan marker (0xFFDA) follows the marker segments. */
function hasScan(b: Uint8Array): boolean {
  for (let at = b.indexOf(0xff, 2); at >= 0 && at + 1 < b.length; at = b.indexOf(0xff, at + 1)) {
    if (b[at + 1] === 0xda) return true;
  }
  return false;
}

/** Walks the marker segments up to the first frame header (SOFn). */
export function readJpegInfo(b: Uint8Array): JpegInfo {
  let at = 2;
  let orientation = 1;
  let jfif = false;
  let adobeTransform: number | undefined;
  for (;;) {
    need(b, at + 2, 'frame header (SOF)');
    if (b[at] !== 0xff) throw new HeaderError(`no marker at byte ${at}`);
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // standalone markers
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new HeaderError('there is no frame header (SOF) before the image data');
    const length = u16be(b, at + 2);
    if (length < 2) throw new HeaderError(`segment length ${length} at byte ${at}`);
    const payload = b.subarray(at + 4, Math.min(b.length, at + 2 + length));
    if (marker === 0xe0 && startsWith(payload, [...ascii('JFIF'), 0])) jfif = true;
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(payload);
    if (marker === 0xee && payload.length >= 12 && startsWith(payload, ascii('Adobe'))) adobeTransform = payload[11];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      need(b, at + 10, 'frame header (SOF)');
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      const count = b[at + 9]!;
      need(b, at + 10 + 3 * count, 'component list of the frame header');
      positive(width, height);
      const components = Array.from({ length: count }, (_, i) => b[at + 10 + 3 * i]!);
      return { sof: marker, precision: b[at + 4]!, width, height, components, jfif, adobeTransform, orientation };
    }
    at += 2 + length;
  }
}

/**
 * An APP14 "Adobe" segment with transform 0. jpeg-js refuses a 4-component JPEG without one; libjpeg
 * reads such a file as CMYK, and Photoshop-style (inverted) CMYK is what jpeg-js then assumes, as
 * Chromium does for every CMYK JPEG.
 */
const ADOBE_CMYK = Uint8Array.from([0xff, 0xee, 0x00, 0x0e, ...ascii('Adobe'), 0x00, 0x64, 0, 0, 0, 0, 0]);

function decoderInput(b: Uint8Array, info: JpegInfo): Buffer {
  if (info.components.length === 4 && info.adobeTransform === undefined) {
    return Buffer.concat([b.subarray(0, 2), ADOBE_CMYK, b.subarray(2)]);
  }
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

/**
 * Whether three components are YCbCr (converted to RGB) or already RGB, by libjpeg's rules: the Adobe
 * transform when there is an Adobe segment (jpeg-js would convert even when it says 0), YCbCr with
 * JFIF, RGB when the components are named 'R', 'G', 'B', YCbCr otherwise.
 */
export function isYcbcr(info: JpegInfo): boolean {
  if (info.adobeTransform !== undefined) return info.adobeTransform !== 0;
  if (info.jfif) return true;
  return String.fromCharCode(...info.components) !== 'RGB';
}

function decoderOptions(info: JpegInfo, limits: ImageLimits): Record<string, unknown> {
  return {
    // jpeg-js's own guards, kept above our limit so that only `limits` decides. tolerantDecoding stays
    // on (its default): it accepts slightly malformed camera files, and still throws on a cut file.
    maxResolutionInMP: Math.max(100, Math.ceil(limits.maxPixels / 1e6)),
    maxMemoryUsageInMB: Math.max(512, Math.ceil((limits.maxPixels * 12) / 2 ** 20)),
    ...(info.components.length === 3 ? { colorTransform: isYcbcr(info) } : {}),
  };
}
