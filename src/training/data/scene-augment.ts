import type { RgbaImage } from '../../images/decode';
import type { Random } from '../prng';
import type { SceneAugmentationConfig } from './config';
import type { SceneAugmenter } from './dataset';

// Module bindings: global lookups in hot loops are slow inside Jest's VM context.
const { abs, ceil, cos, exp, floor, max, min, PI, round, sqrt, log } = Math;

/**
 * Scene augmentation: a training digit redrawn as a picture a user might send, BEFORE the
 * server's preprocessing recipe runs on it. The `mnist-digit` recipe already undoes size,
 * position and polarity, so these distortions are the ones it cannot normalise (issue 17):
 *
 *  - shape: an elastic distortion (random displacements of a 4x4 grid of control points,
 *    interpolated: handwriting wobble), a shear (slant), a thicker (dilated) or thinner stroke;
 *  - size: with probability `small`, the glyph is drawn 10-18 px tall anywhere in a 28x28 frame,
 *    as in a thumbnail, so the recipe has to enlarge a few blurry pixels; otherwise it fills
 *    45-85% of a 28-64 px frame;
 *  - paper: with probability `paper`, tinted paper (plain, ruled with a margin line, or squared)
 *    under black, blue, blue-black, red or pencil ink, a shadow across it, sensor noise; or
 *    (one in eight) chalk on a dark board. Otherwise the MNIST look, in either polarity;
 *  - a Gaussian blur, JPEG artefacts (8x8 DCT quantisation of the luma at quality 25-85).
 *
 * The input picture is a light glyph on a dark background (MNIST's convention, as idx and
 * mnist-package give it). Everything is drawn from `random` in a fixed order: reproducible.
 */

/** A coverage map: 0..1 ink per pixel. */
interface Plane {
  width: number;
  height: number;
  data: Float32Array;
}

function sample(p: Plane, x: number, y: number): number {
  if (x < 0 || y < 0 || x > p.width - 1 || y > p.height - 1) return 0;
  const x0 = floor(x);
  const y0 = floor(y);
  const x1 = min(p.width - 1, x0 + 1);
  const y1 = min(p.height - 1, y0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const d = p.data;
  const w = p.width;
  return (d[y0 * w + x0]! * (1 - fx) + d[y0 * w + x1]! * fx) * (1 - fy) + (d[y1 * w + x0]! * (1 - fx) + d[y1 * w + x1]! * fx) * fy;
}

/** The picture's luma as coverage, padded by `pad` pixels on every side (room for distortions). */
function coverageOf(picture: RgbaImage, pad: number): Plane {
  const width = picture.width + 2 * pad;
  const height = picture.height + 2 * pad;
  const data = new Float32Array(width * height);
  const src = picture.data;
  for (let y = 0; y < picture.height; y++) {
    for (let x = 0; x < picture.width; x++) {
      const i = (y * picture.width + x) * 4;
      data[(y + pad) * width + x + pad] = (0.299 * src[i]! + 0.587 * src[i + 1]! + 0.114 * src[i + 2]!) / 255;
    }
  }
  return { width, height, data };
}

/** Elastic distortion and shear in one resampling. */
function distort(p: Plane, elastic: number, shear: number, random: Random): Plane {
  const grid = 4;
  const gx = new Float32Array(grid * grid);
  const gy = new Float32Array(grid * grid);
  for (let i = 0; i < grid * grid; i++) {
    gx[i] = (random() * 2 - 1) * elastic;
    gy[i] = (random() * 2 - 1) * elastic;
  }
  const s = (random() * 2 - 1) * shear;
  const out = new Float32Array(p.data.length);
  const cy = (p.height - 1) / 2;
  const field = (g: Float32Array, u: number, v: number) => {
    const i0 = min(grid - 2, floor(u));
    const j0 = min(grid - 2, floor(v));
    const fu = u - i0;
    const fv = v - j0;
    return (g[j0 * grid + i0]! * (1 - fu) + g[j0 * grid + i0 + 1]! * fu) * (1 - fv) + (g[(j0 + 1) * grid + i0]! * (1 - fu) + g[(j0 + 1) * grid + i0 + 1]! * fu) * fv;
  };
  for (let y = 0; y < p.height; y++) {
    const v = (y / (p.height - 1)) * (grid - 1);
    for (let x = 0; x < p.width; x++) {
      const u = (x / (p.width - 1)) * (grid - 1);
      out[y * p.width + x] = sample(p, x + field(gx, u, v) + s * (y - cy), y + field(gy, u, v));
    }
  }
  return { width: p.width, height: p.height, data: out };
}

/** Thicker (max over the 4-neighbourhood) or thinner (coverage pushed down) strokes. */
function restroke(p: Plane, thicker: boolean): Plane {
  const { width, height, data } = p;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (thicker) {
        let m = data[i]!;
        if (x > 0) m = max(m, data[i - 1]! * 0.85);
        if (x < width - 1) m = max(m, data[i + 1]! * 0.85);
        if (y > 0) m = max(m, data[i - width]! * 0.85);
        if (y < height - 1) m = max(m, data[i + width]! * 0.85);
        out[i] = m;
      } else {
        out[i] = min(1, max(0, (data[i]! - 0.35) / 0.6));
      }
    }
  }
  return { width, height, data: out };
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function inkBox(p: Plane): Box | undefined {
  let box: Box | undefined;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (p.data[y * p.width + x]! <= 0.1) continue;
      if (!box) box = { x0: x, y0: y, x1: x, y1: y };
      else {
        box.x0 = min(box.x0, x);
        box.x1 = max(box.x1, x);
        box.y0 = min(box.y0, y);
        box.y1 = max(box.y1, y);
      }
    }
  }
  return box;
}

/**
 * The glyph's ink box drawn `glyphHeight` px tall at (left, top) of a frame x frame plane. Each
 * output pixel averages k x k samples (k: the shrink factor, rounded up), so a small glyph is
 * anti-aliased like a real thumbnail rather than aliased.
 */
function place(p: Plane, box: Box, frame: number, glyphHeight: number, left: number, top: number): Plane {
  const scale = glyphHeight / (box.y1 - box.y0 + 1);
  const k = max(1, ceil(1 / scale));
  const out = new Float32Array(frame * frame);
  for (let y = 0; y < frame; y++) {
    for (let x = 0; x < frame; x++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < k; i++) {
          const sx = box.x0 - 0.5 + (x - left + (i + 0.5) / k) / scale;
          const sy = box.y0 - 0.5 + (y - top + (j + 0.5) / k) / scale;
          sum += sample(p, sx, sy);
        }
      }
      out[y * frame + x] = sum / (k * k);
    }
  }
  return { width: frame, height: frame, data: out };
}

type Rgb = [number, number, number];

const INKS: Rgb[] = [
  [0.08, 0.08, 0.1], // black
  [0.1, 0.15, 0.55], // blue ballpoint
  [0.12, 0.12, 0.3], // blue-black
  [0.7, 0.1, 0.12], // red
  [0.38, 0.38, 0.4], // pencil
];

/** Paints coverage as ink on paper (or chalk on a board, or MNIST's gray) into RGB 0..1 planes. */
function paint(p: Plane, paper: boolean, random: Random): Float32Array {
  const { width, height, data } = p;
  const rgb = new Float32Array(width * height * 3);
  if (!paper) {
    const dark = random() < 0.5; // MNIST's white on black, or its negative
    for (let i = 0; i < data.length; i++) {
      const v = dark ? data[i]! : 1 - data[i]!;
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = v;
    }
    return rgb;
  }
  const board = random() < 0.125;
  const u = (lo: number, hi: number) => lo + (hi - lo) * random();
  const level = board ? u(0.08, 0.3) : u(0.72, 0.98);
  const bg: Rgb = [level + u(-0.04, 0.04), level + u(-0.04, 0.04), level + u(-0.04, 0.04)];
  const ink: Rgb = board ? [u(0.8, 0.95), u(0.8, 0.95), u(0.8, 0.95)] : INKS[floor(random() * INKS.length)]!;
  const opacity = u(0.7, 1);
  const lines = board ? 0 : random();
  const ruled = lines < 0.4; // horizontal lines
  const squared = lines >= 0.4 && lines < 0.55; // and vertical ones
  const pitch = u(0.18, 0.4) * height;
  const phase = random() * pitch;
  const margin = ruled && random() < 0.25 ? floor(random() * width) : -1;
  const lineColour: Rgb = [0.55, 0.7, 0.95];
  const lineAlpha = u(0.35, 0.9);
  // Shadow: brightness falls off linearly along a random direction, by up to 35%.
  const angle = random() * 2 * PI;
  const shadow = u(0, 0.35);
  const dx = cos(angle);
  const dy = Math.sin(angle);
  const noise = u(0, 0.03);
  const reach = abs(dx) * (width - 1) + abs(dy) * (height - 1) || 1;
  const offset = min(0, dx * (width - 1)) + min(0, dy * (height - 1));
  for (let y = 0; y < height; y++) {
    const onRule = (ruled || squared) && abs(((y + phase) % pitch) - pitch / 2) < 0.5;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const onLine = onRule || (squared && abs(((x + phase) % pitch) - pitch / 2) < 0.5) || x === margin;
      const light = 1 - shadow * ((dx * x + dy * y - offset) / reach);
      const a = data[i]! * opacity;
      for (let c = 0; c < 3; c++) {
        let paperC = bg[c]!;
        if (onLine) paperC = paperC * (1 - lineAlpha) + (x === margin ? [0.85, 0.3, 0.3][c]! : lineColour[c]!) * lineAlpha;
        let v = (paperC * (1 - a) + ink[c]! * a) * light;
        if (noise > 0) v += noise * sqrt(-2 * log(random() || 1e-12)) * cos(2 * PI * random());
        rgb[i * 3 + c] = v;
      }
    }
  }
  return rgb;
}

/** Separable Gaussian blur of RGB planes. */
function blur(rgb: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const r = max(1, ceil(sigma * 2.5));
  const kernel = new Float32Array(2 * r + 1);
  let total = 0;
  for (let i = -r; i <= r; i++) total += kernel[i + r] = exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= total;
  const pass = (src: Float32Array, horizontal: boolean) => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let k = -r; k <= r; k++) {
            const xx = horizontal ? min(width - 1, max(0, x + k)) : x;
            const yy = horizontal ? y : min(height - 1, max(0, y + k));
            s += src[(yy * width + xx) * 3 + c]! * kernel[k + r]!;
          }
          dst[(y * width + x) * 3 + c] = s;
        }
      }
    }
    return dst;
  };
  return pass(pass(rgb, true), false);
}

/** IJG's luminance quantisation table (quality 50). */
const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24,
  35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const DCT = Array.from({ length: 64 }, (_, i) => {
  const u = floor(i / 8);
  const x = i % 8;
  return (u === 0 ? sqrt(1 / 8) : sqrt(2 / 8)) * cos(((2 * x + 1) * u * PI) / 16);
});

/**
 * JPEG's loss on the luma: each 8x8 block's DCT coefficients rounded to the quality's
 * quantisation steps (IJG scaling), and the change in luma added to all three channels. Blocks
 * and ringing are what a phone's JPEG does to a thin stroke; chroma is left alone (the digit
 * recipe reads the luma only).
 */
function jpegLuma(rgb: Float32Array, width: number, height: number, quality: number): void {
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  const q = LUMA_Q.map((v) => max(1, floor((v * scale + 50) / 100)));
  const block = new Float32Array(64);
  const tmp = new Float32Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let j = 0; j < 8; j++) {
        for (let i = 0; i < 8; i++) {
          const x = min(width - 1, bx + i);
          const y = min(height - 1, by + j);
          const o = (y * width + x) * 3;
          block[j * 8 + i] = (0.299 * rgb[o]! + 0.587 * rgb[o + 1]! + 0.114 * rgb[o + 2]!) * 255 - 128;
        }
      }
      const original = block.slice();
      // Forward DCT (rows, then columns), quantise, inverse.
      for (let j = 0; j < 8; j++) for (let u = 0; u < 8; u++) { let s = 0; for (let x = 0; x < 8; x++) s += DCT[u * 8 + x]! * block[j * 8 + x]!; tmp[j * 8 + u] = s; }
      for (let u = 0; u < 8; u++) for (let v = 0; v < 8; v++) { let s = 0; for (let y = 0; y < 8; y++) s += DCT[v * 8 + y]! * tmp[y * 8 + u]!; block[v * 8 + u] = round(s / q[v * 8 + u]!) * q[v * 8 + u]!; }
      for (let u = 0; u < 8; u++) for (let y = 0; y < 8; y++) { let s = 0; for (let v = 0; v < 8; v++) s += DCT[v * 8 + y]! * block[v * 8 + u]!; tmp[y * 8 + u] = s; }
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) { let s = 0; for (let u = 0; u < 8; u++) s += DCT[u * 8 + x]! * tmp[y * 8 + u]!; block[y * 8 + x] = s; }
      for (let j = 0; j < 8 && by + j < height; j++) {
        for (let i = 0; i < 8 && bx + i < width; i++) {
          const delta = (block[j * 8 + i]! - original[j * 8 + i]!) / 255;
          const o = ((by + j) * width + bx + i) * 3;
          rgb[o]! += delta;
          rgb[o + 1]! += delta;
          rgb[o + 2]! += delta;
        }
      }
    }
  }
}

export function sceneAugmenter(o: SceneAugmentationConfig): SceneAugmenter {
  return (picture, random) => {
    const u = (lo: number, hi: number) => lo + (hi - lo) * random();
    let glyph = coverageOf(picture, 6);
    if (o.elastic > 0 || o.shear > 0) glyph = distort(glyph, o.elastic, o.shear, random);
    const strokeDraw = random();
    if (strokeDraw < o.stroke) glyph = restroke(glyph, strokeDraw < o.stroke / 2);
    const box = inkBox(glyph);
    const small = random() < o.small;
    const frame = small ? 28 : random() < 0.5 ? 28 : round(u(28, 64));
    const wantedHeight = small ? u(10, 18) : u(0.45, 0.85) * frame;
    const paperDraw = random() < o.paper;
    const blurDraw = random() < o.blur;
    const sigma = u(0.3, 1.2);
    const jpegDraw = random() < o.jpeg;
    const quality = round(u(25, 85));
    const posX = random();
    const posY = random();
    if (!box) return picture; // an empty picture stays empty
    // A wide glyph (a slanted 7, a long 1 lying down) is made smaller so that it fits the frame.
    const aspect = (box.x1 - box.x0 + 1) / (box.y1 - box.y0 + 1);
    const glyphHeight = min(wantedHeight, (0.95 * frame) / aspect);
    const glyphWidth = aspect * glyphHeight;
    const left = posX * max(0, frame - glyphWidth);
    const top = posY * max(0, frame - glyphHeight);
    const placed = place(glyph, box, frame, glyphHeight, left, top);
    let rgb = paint(placed, paperDraw, random);
    if (blurDraw) rgb = blur(rgb, frame, frame, sigma);
    if (jpegDraw) jpegLuma(rgb, frame, frame, quality);
    const data = new Uint8Array(frame * frame * 4);
    for (let i = 0; i < frame * frame; i++) {
      for (let c = 0; c < 3; c++) data[i * 4 + c] = round(min(1, max(0, rgb[i * 3 + c]!)) * 255);
      data[i * 4 + 3] = 255;
    }
    return { width: frame, height: frame, data };
  };
}
