import type { AcceptedImageFormat } from './formats';
import type { ImageLimits } from './limits';
import type { RgbaImage } from './orientation';

/** What the header of an accepted image says, read without decoding any pixel. */
export interface ImageHeader {
  format: AcceptedImageFormat;
  /**
   * The size the decoder allocates: for GIF the logical screen (grown to hold the first frame),
   * for TIFF the first page. Stored size, before any rotation (which keeps the pixel count).
   */
  width: number;
  height: number;
  /** JPEG (EXIF) and TIFF only: the orientation 2-8 when the stored pixels must be turned to be upright. */
  orientation?: number;
}

/**
 * A recognised upload: its header, and how to decode it. Each format module builds one from what its
 * header reader learnt, so that decoding neither parses the header again nor guesses. `decode` is
 * called only once the header has passed the limits; it throws a plain `Error` on corrupt data.
 */
export interface Probe {
  header: ImageHeader;
  decode(limits: ImageLimits): Promise<RgbaImage>;
}
