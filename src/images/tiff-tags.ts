/** TIFF tag numbers and values used by the TIFF reader and decoder. */
export const T = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  stripOffsets: 273,
  orientation: 274,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  planarConfig: 284,
  predictor: 317,
  tileWidth: 322,
  tileLength: 323,
  tileOffsets: 324,
  tileByteCounts: 325,
  sampleFormat: 339,
  inkSet: 332,
} as const;

/** Compression 7: JPEG ("new-style"). */
export const JPEG = 7;
/** PhotometricInterpretation 5: separated, CMYK by default. */
export const CMYK = 5;
