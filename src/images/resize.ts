import type { Preprocessing } from '../model-store/metadata';
import type { RgbaImage } from './decode';
import { type GrayImage, rgbaToGray } from './gray';
import { resample, type SampleGrid } from './resample';

export type ResizePreprocessing = Extract<Preprocessing, { recipe: 'resize' }>;

/** The image as planes of 0..1 values, alpha flattened onto white: luma (`rgbaToGray`), or R, G, B. */
function planes(rgba: RgbaImage, channels: 1 | 3): GrayImage[] {
  if (channels === 1) return [rgbaToGray(rgba)];
  const { width, height, data } = rgba;
  return [0, 1, 2].map((c) => {
    const plane = new Float32Array(width * height);
    for (let i = 0, p = 0; i < plane.length; i++, p += 4) {
      const alpha = data[p + 3]! / 255;
      plane[i] = (alpha * data[p + c]! + (1 - alpha) * 255) / 255;
    }
    return { width, height, data: plane };
  });
}

/** Mean brightness of the outermost pixels of the first plane: what the background looks like. */
function borderMean({ width, height, data }: GrayImage): number {
  let sum = 0;
  let n = 0;
  for (let x = 0; x < width; x++) sum += data[x]! + data[(height - 1) * width + x]!, (n += 2);
  for (let y = 1; y < height - 1; y++) sum += data[y * width]! + data[y * width + width - 1]!, (n += 2);
  return sum / n;
}

/** Where the output grid looks in the source, per resize mode. Outside the source reads as 0 (black). */
function grid(width: number, height: number, outW: number, outH: number, mode: ResizePreprocessing['resize']): SampleGrid {
  if (mode === 'stretch') return { width: outW, height: outH, originX: 0, originY: 0, stepX: width / outW, stepY: height / outH };
  // centre-crop: the short side fills the output and the long side is cut; letterbox: the long
  // side fits and the short side is padded. Either way one step for both axes keeps the aspect.
  const step = mode === 'center-crop' ? Math.min(width / outW, height / outH) : Math.max(width / outW, height / outH);
  return { width: outW, height: outH, originX: (width - outW * step) / 2, originY: (height - outH * step) / 2, stepX: step, stepY: step };
}

/**
 * The `resize` recipe: the whole image brought to an [height, width, channels] input (HWC,
 * row-major), as declared in the model's metadata.
 */
export function resizeInput(rgba: RgbaImage, shape: readonly number[], p: ResizePreprocessing): Float32Array {
  const [outH, outW, channels] = shape;
  if (outH === undefined || outW === undefined || (channels !== 1 && channels !== 3)) {
    throw new Error(`The resize recipe needs an input shape [height, width, 1 or 3], not [${shape.join(', ')}]`);
  }
  let source = planes(rgba, channels);
  if (p.invert === 'auto' && borderMean(source[0]!) > 0.5) {
    source = source.map((plane) => ({ ...plane, data: plane.data.map((v) => 1 - v) }));
  }
  const g = grid(rgba.width, rgba.height, outW, outH, p.resize);
  const resized = source.map((plane) => resample(plane, g).data);
  const out = new Float32Array(outH * outW * channels);
  for (let i = 0; i < outH * outW; i++) {
    for (let c = 0; c < channels; c++) {
      const v = Math.min(1, Math.max(0, resized[c]![i]!));
      out[i * channels + c] = p.scale === 'unit' ? v : v * 2 - 1;
    }
  }
  return out;
}
