/**
 * The image formats this server decodes. This list is the one place they are named: the sniffer
 * dispatches on it, and every 415 problem (its detail and its `acceptedFormats` extension) quotes it.
 */
export const ACCEPTED_IMAGE_FORMATS = Object.freeze(['png', 'jpeg', 'bmp', 'gif', 'tiff'] as const);

export type AcceptedImageFormat = (typeof ACCEPTED_IMAGE_FORMATS)[number];

/** How each accepted format is named in problem details. */
export const FORMAT_LABEL: Readonly<Record<AcceptedImageFormat, string>> = Object.freeze({
  png: 'PNG',
  jpeg: 'JPEG',
  bmp: 'BMP',
  gif: 'GIF',
  tiff: 'TIFF',
});

/** "PNG, JPEG, BMP, GIF, TIFF": what a refused upload is told to send instead. */
export function acceptedFormatsText(): string {
  return ACCEPTED_IMAGE_FORMATS.map((f) => FORMAT_LABEL[f]).join(', ');
}
