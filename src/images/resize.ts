import { IMAGENET_NORMALIZE, type Preprocessing, type Scale } from '../model-store/metadata';
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
  // caffe reads the planes in BGR order; every other scale keeps RGB (or the one gray plane).
  const order = p.scale === 'caffe' ? [2, 1, 0] : [0, 1, 2];
  // metadata.json's per-channel (x - mean) / std after the scaling (torchvision's ImageNet
  // preset, or any values): part of the recipe, so serving, explain and training agree.
  const normalize = p.normalize === 'imagenet' ? IMAGENET_NORMALIZE : p.normalize;
  const out = new Float32Array(outH * outW * channels);
  for (let i = 0; i < outH * outW; i++) {
    for (let c = 0; c < channels; c++) {
      const v = scaled(Math.min(1, Math.max(0, resized[order[c]!]![i]!)), c, p.scale);
      out[i * channels + c] = normalize ? (v - normalize.mean[c]!) / normalize.std[c]! : v;
    }
  }
  return out;
}

/** ImageNet's mean pixel in BGR order on 0..255, as Keras' `preprocess_input(mode='caffe')` subtracts it. */
export const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68] as const;

/** One 0..1 value of output channel `c` brought to the model's range. */
function scaled(v: number, c: number, scale: Scale): number {
  switch (scale) {
    case 'unit':
      return v;
    case 'symmetric':
      return v * 2 - 1;
    case 'raw':
      return v * 255;
    case 'caffe':
      return v * 255 - CAFFE_BGR_MEAN[c]!;
  }
}
