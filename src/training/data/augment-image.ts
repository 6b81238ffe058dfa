import type { Scale } from '../../model-store/metadata';
import { CAFFE_BGR_MEAN } from '../../images/resize';
import type { Random } from '../prng';
import type { AugmentationConfig } from './config';

// Module bindings: global lookups in hot loops are slow inside Jest's VM context.
const { cos, sin, floor, min, max, sqrt, log, PI } = Math;

/**
 * Random distortions of a prepared model input (HWC Float32Array, any size, 1 or 3 channels),
 * applied per training example per epoch. Works in 0..1 pixel space: the input is mapped back from
 * the model's scale (unit, symmetric, raw, caffe), distorted, clamped and mapped forward again,
 * so `brightness: 0.1` means the same for every model.
 *
 *  - geometric (one bilinear resampling about the centre): rotation (degrees), shift (fraction of
 *    the side), zoom (scale in [1 - zoom, 1 + zoom]), horizontal / vertical flips (each with
 *    probability 1/2; off by default: a mirrored digit is another digit or none). Pixels mapped
 *    from outside the image take the nearest edge pixel (Keras' fill_mode 'nearest').
 *  - photometric: brightness (add U[-b, b]), contrast (scale about the channel mean by
 *    U[1 - c, 1 + c]), noise (Gaussian, standard deviation `noise`).
 *
 * Draws a fixed number of values from `random` per image (8, plus 2 per pixel value with noise),
 * so a seeded run is reproducible.
 */
export type Augmenter = (input: Float32Array, random: Random) => Float32Array;

function toUnit(scale: Scale): (v: number, c: number) => number {
  switch (scale) {
    case 'unit':
      return (v) => v;
    case 'symmetric':
      return (v) => (v + 1) / 2;
    case 'raw':
      return (v) => v / 255;
    case 'caffe':
      return (v, c) => (v + CAFFE_BGR_MEAN[c]!) / 255;
  }
}

function fromUnit(scale: Scale): (u: number, c: number) => number {
  switch (scale) {
    case 'unit':
      return (u) => u;
    case 'symmetric':
      return (u) => u * 2 - 1;
    case 'raw':
      return (u) => u * 255;
    case 'caffe':
      return (u, c) => u * 255 - CAFFE_BGR_MEAN[c]!;
  }
}

export function imageAugmenter(shape: readonly number[], scale: Scale, o: AugmentationConfig): Augmenter {
  const [height, width, channels] = shape as [number, number, number];
  const unit = toUnit(scale);
  const back = fromUnit(scale);
  const geometric = o.rotation > 0 || o.shift > 0 || o.zoom > 0 || o.horizontal_flip || o.vertical_flip;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const n = width * height;

  return (input, random) => {
    const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
    const angle = (uniform(-o.rotation, o.rotation) * PI) / 180;
    const zoom = uniform(1 - o.zoom, 1 + o.zoom);
    const tx = uniform(-o.shift, o.shift) * width;
    const ty = uniform(-o.shift, o.shift) * height;
    const hflip = random() < 0.5 && o.horizontal_flip;
    const vflip = random() < 0.5 && o.vertical_flip;
    const brightness = uniform(-o.brightness, o.brightness);
    const contrast = uniform(1 - o.contrast, 1 + o.contrast);

    // 0..1 planes.
    const planes: Float32Array[] = [];
    for (let c = 0; c < channels; c++) {
      const plane = new Float32Array(n);
      for (let i = 0; i < n; i++) plane[i] = unit(input[i * channels + c]!, c);
      planes.push(plane);
    }
    let out = planes;
    if (geometric) {
      // Output pixel p' = c + t + zoom * R(angle) * (p - c), flipped afterwards; sample at the inverse.
      const ca = cos(angle) / zoom;
      const sa = sin(angle) / zoom;
      out = planes.map((plane) => {
        const dst = new Float32Array(n);
        for (let y = 0; y < height; y++) {
          const oy = vflip ? height - 1 - y : y;
          const dy = y - cy - ty;
          for (let x = 0; x < width; x++) {
            const ox = hflip ? width - 1 - x : x;
            const dx = x - cx - tx;
            const sx = min(width - 1, max(0, cx + ca * dx + sa * dy));
            const sy = min(height - 1, max(0, cy - sa * dx + ca * dy));
            const x0 = floor(sx);
            const y0 = floor(sy);
            const x1 = min(width - 1, x0 + 1);
            const y1 = min(height - 1, y0 + 1);
            const fx = sx - x0;
            const fy = sy - y0;
            const top = plane[y0 * width + x0]! * (1 - fx) + plane[y0 * width + x1]! * fx;
            const bottom = plane[y1 * width + x0]! * (1 - fx) + plane[y1 * width + x1]! * fx;
            dst[oy * width + ox] = top * (1 - fy) + bottom * fy;
          }
        }
        return dst;
      });
    }
    const result = new Float32Array(input.length);
    for (let c = 0; c < channels; c++) {
      const plane = out[c]!;
      let mean = 0;
      if (o.contrast > 0) {
        for (let i = 0; i < n; i++) mean += plane[i]!;
        mean /= n;
      }
      for (let i = 0; i < n; i++) {
        let v = (plane[i]! - mean) * contrast + mean + brightness;
        if (o.noise > 0) {
          // Box-Muller: two uniforms per value.
          const u1 = random() || 1e-12;
          const u2 = random();
          v += o.noise * sqrt(-2 * log(u1)) * cos(2 * PI * u2);
        }
        result[i * channels + c] = back(min(1, max(0, v)), c);
      }
    }
    return result;
  };
}
