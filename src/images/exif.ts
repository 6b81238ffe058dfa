import { HeaderError, ascii, startsWith } from './binary';
import { readIfd, tagValues, tiffStructure } from './tiff-ifd';

export const ORIENTATION_TAG = 0x0112;

/**
 * The Orientation tag of IFD0 in a JPEG APP1 payload ("Exif\0\0" + a TIFF structure); 1 (upright)
 * when absent or unreadable: a damaged EXIF block does not make the picture unusable.
 */
export function exifOrientation(app1: Uint8Array): number {
  if (!startsWith(app1, [...ascii('Exif'), 0, 0])) return 1;
  const tiff = app1.subarray(6);
  try {
    const structure = tiffStructure(tiff);
    if (structure === undefined) return 1;
    const ifd = readIfd(tiff, structure.r, structure.firstIfd);
    return validOrientation(tagValues(tiff, structure.r, ifd, ORIENTATION_TAG, [1])[0]);
  } catch (err) {
    if (err instanceof HeaderError) return 1;
    throw err;
  }
}

/** The `orientation` member of an ImageHeader: present only when the picture must be turned. */
export function orientationOf(orientation: number): { orientation?: number } {
  return orientation === 1 ? {} : { orientation };
}

/** 1-8 as given; anything else is read as 1, as viewers do. */
export function validOrientation(value: number | undefined): number {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 8 ? value : 1;
}
