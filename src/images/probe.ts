import type { AcceptedImageFormat } from './formats';
import type { ImageLimits } from './limits';
import type { RgbaImage } from './orientation';

/** What the header of an accepted image says, read without decoding any pixel. */
export interface ImageHeader {
  format: AcceptedImageFormat;
  /**
   * The size the decoder allocates: for GIF the logical screen (grown to hold the first frame),
   * for TIFF the first page, for HEIF/AVIF the largest image the file declares. Stored size,
   * before any rotation (which keeps the pixel count).
   */
  width: number;
  height: number;
  /** JPEG only: true for 4-component (CMYK, YCCK) data. */
  cmyk?: boolean;
  /** GIF only: true when the first frame leaves part of the canvas unpainted. */
  partialFrame?: boolean;
  /** JPEG (EXIF) and TIFF only: the orientation 2-8 when the stored pixels must be turned to be upright. */
  orientation?: number;
}

/**
 * A recognised upload: its header, and, for the formats a JavaScript codec decodes in this thread
 * (PNG: pngjs, JPEG: jpeg-js, BMP: bmp.ts), how to decode it with that codec, built from what the
 * header reader learnt so that decoding neither parses the header again nor guesses. Which codec
 * actually decodes an upload is decided by `codecFor` (codec-rule.ts). `decodeJs` is called only once
 * the header has passed the limits; it throws a plain `Error` on corrupt data.
 */
export interface Probe {
  header: ImageHeader;
  /**
   * Checks, once the header's size has passed the limits, that the file holds enough data for the
   * image it declares (PNG, JPEG); throws `HeaderError` when it cannot.
   */
  checkData?: () => void;
  decodeJs?: (limits: ImageLimits) => Promise<RgbaImage>;
}
