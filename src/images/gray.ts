/** A grayscale image: 0..1, row-major, 0 = black, 1 = white. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * RGBA (8 bits per channel) -> gray 0..1: alpha composited onto white, then ITU-R BT.601 luma
 * (0.299 R + 0.587 G + 0.114 B).
 */
export function rgbaToGray(rgba: { width: number; height: number; data: Uint8Array }): GrayImage {
  const { width, height, data } = rgba;
  const out = new Float32Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    const luma = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
    const alpha = data[p + 3]! / 255;
    out[i] = (alpha * luma + (1 - alpha) * 255) / 255;
  }
  return { width, height, data: out };
}
