/** 8-bit RGBA pixels, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Turns pixels stored with EXIF orientation 2-8 upright (what a viewer shows). For each output
 * pixel (x, y) of the upright image, `source` gives the stored pixel; W and H are the stored sizes.
 */
const SOURCE: Record<number, (x: number, y: number, w: number, h: number) => [number, number]> = {
  2: (x, y, w) => [w - 1 - x, y], // mirrored horizontally
  3: (x, y, w, h) => [w - 1 - x, h - 1 - y], // rotated 180
  4: (x, y, _w, h) => [x, h - 1 - y], // mirrored vertically
  5: (x, y) => [y, x], // transposed
  6: (x, y, _w, h) => [y, h - 1 - x], // needs 90 degrees clockwise
  7: (x, y, w, h) => [w - 1 - y, h - 1 - x], // transversed
  8: (x, y, w) => [w - 1 - y, x], // needs 90 degrees counter-clockwise
};

export function applyOrientation(img: RgbaImage, orientation: number): RgbaImage {
  const source = SOURCE[orientation];
  if (source === undefined) return img;
  const swap = orientation >= 5;
  const width = swap ? img.height : img.width;
  const height = swap ? img.width : img.height;
  const src = new Uint32Array(img.data.slice().buffer); // copy: aligned, one word per pixel
  const out = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = source(x, y, img.width, img.height);
      out[y * width + x] = src[sy * img.width + sx]!;
    }
  }
  return { width, height, data: new Uint8Array(out.buffer) };
}
