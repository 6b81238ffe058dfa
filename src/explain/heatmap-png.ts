import { deflateSync } from 'node:zlib';
import { PNG_SIGNATURE, pngChunk } from '../images/png';
import type { InputGeometry } from './occlusion';

/**
 * The explanation as a picture: the model's prepared input (what it saw, contrast-stretched to
 * gray) under a colour map of the per-pixel sensitivity (transparent blue where hiding changed
 * nothing or helped, through yellow to red where it hurt most), scaled up by whole pixels to at
 * least `minSide` so a 28x28 digit is visible. Encoded as an 8-bit RGB PNG.
 */
export function heatmapPng(input: Float32Array, sensitivity: Float32Array, geometry: InputGeometry, minSide = 224): Buffer {
  const { height, width, channels } = geometry;
  const scale = Math.max(1, Math.ceil(minSide / Math.max(height, width)));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of input) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const range = hi - lo || 1;
  const top = sensitivity.reduce((m, v) => Math.max(m, v), 0) || 1;

  const outWidth = width * scale;
  const rowBytes = 1 + outWidth * 3;
  const raw = Buffer.alloc(rowBytes * height * scale);
  for (let y = 0; y < height; y++) {
    const line = Buffer.alloc(rowBytes); // filter byte 0 (None), then RGB
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      let luma = 0;
      for (let c = 0; c < channels; c++) luma += input[p * channels + c]!;
      const gray = ((luma / channels - lo) / range) * 255;
      const heat = Math.max(0, sensitivity[p]! / top);
      const [r, g, b] = colour(heat);
      const alpha = 0.15 + 0.5 * heat;
      for (let s = 0; s < scale; s++) {
        const o = 1 + (x * scale + s) * 3;
        line[o] = Math.round(gray * (1 - alpha) + r * alpha);
        line[o + 1] = Math.round(gray * (1 - alpha) + g * alpha);
        line[o + 2] = Math.round(gray * (1 - alpha) + b * alpha);
      }
    }
    for (let s = 0; s < scale; s++) line.copy(raw, (y * scale + s) * rowBytes);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(outWidth, 0);
  header.writeUInt32BE(height * scale, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, adaptive filtering, no interlace
  return Buffer.concat([Buffer.from(PNG_SIGNATURE), pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}


/** 0 -> blue, 0.5 -> yellow, 1 -> red. */
function colour(t: number): [number, number, number] {
  if (t < 0.5) {
    const u = t / 0.5;
    return [255 * u, 255 * u, 255 * (1 - u)];
  }
  const u = (t - 0.5) / 0.5;
  return [255, 255 * (1 - u), 0];
}
