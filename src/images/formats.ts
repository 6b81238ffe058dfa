/**
 * The image formats this server decodes. This list is the one place they are named: the sniffer
 * dispatches on it, and every 415 problem (its detail and its `acceptedFormats` extension) quotes
 * the part of it the running decoder reads (`acceptedFormats`).
 */
export const ACCEPTED_IMAGE_FORMATS = Object.freeze(['png', 'jpeg', 'webp', 'avif', 'heic', 'gif', 'tiff', 'bmp'] as const);

export type AcceptedImageFormat = (typeof ACCEPTED_IMAGE_FORMATS)[number];

/**
 * Which library family decodes uploads (IMAGE_DECODER): `sharp` (libvips, native) or `jimp` (pure
 * JavaScript and WebAssembly, for a platform without sharp's prebuilt binaries).
 */
export const IMAGE_DECODERS = Object.freeze(['sharp', 'jimp'] as const);
export type ImageDecoderName = (typeof IMAGE_DECODERS)[number];

/** Formats only libvips decodes here: no kept pure-JS library reads WebP or AVIF. */
const NATIVE_ONLY: ReadonlySet<AcceptedImageFormat> = new Set(['webp', 'avif']);

/** The formats `decoder` reads, in the order of ACCEPTED_IMAGE_FORMATS. */
export function acceptedFormats(decoder: ImageDecoderName): readonly AcceptedImageFormat[] {
  return decoder === 'sharp' ? ACCEPTED_IMAGE_FORMATS : ACCEPTED_IMAGE_FORMATS.filter((f) => !NATIVE_ONLY.has(f));
}

/** How each accepted format is named in problem details. */
export const FORMAT_LABEL: Readonly<Record<AcceptedImageFormat, string>> = Object.freeze({
  png: 'PNG',
  jpeg: 'JPEG',
  webp: 'WEBP',
  avif: 'AVIF',
  heic: 'HEIC/HEIF',
  gif: 'GIF',
  tiff: 'TIFF',
  bmp: 'BMP',
});

/** "PNG, JPEG, WEBP, ...": what a refused upload is told to send instead. */
export function acceptedFormatsText(decoder: ImageDecoderName): string {
  return acceptedFormats(decoder).map((f) => FORMAT_LABEL[f]).join(', ');
}
