import { TEST_LIMITS } from '../../test/support/format-fixtures';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Jimp, PNGFilterType } from 'jimp';
import { UnusableImage } from '../errors/errors';
import { decodeToGray } from './decode';
import { mnistDigitInput, strokeWidth } from './digit';
import type { GrayImage } from './gray';
import { dilate, erode } from './morphology';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
const MNIST_FILES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'mnist-1001'];

async function mnist(name: string): Promise<GrayImage> {
  return decodeToGray(readFileSync(path.join(FIXTURES, 'mnist', `${name}.png`)), TEST_LIMITS);
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

function centreOfMass(v: Float32Array): [number, number] {
  let m = 0;
  let x = 0;
  let y = 0;
  v.forEach((p, i) => {
    m += p;
    x += p * (i % 28);
    y += p * Math.floor(i / 28);
  });
  return [x / m, y / m];
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(1e-12, random()))) * Math.cos(2 * Math.PI * random());
}

interface Scene {
  width: number;
  height: number;
  /** Top-left corner of the enlarged digit. */
  at: [number, number];
  /** Enlargement by pixel replication. */
  scale: number;
  /** rgb 0..255 of paper and ink; the digit's gray level mixes them. */
  paper: [number, number, number];
  ink: [number, number, number];
  /** Lighting factor at (x, y), 1 = even. */
  light?: (x: number, y: number) => number;
  noise?: number;
  specks?: [number, number][];
}

/** Paints an MNIST digit (white on black, 28x28) as ink on paper into a larger RGB picture. */
const { abs, floor, max, min, round } = Math; // module bindings: global lookups are slow in Jest's VM

function paint(digit: GrayImage, scene: Scene, random = lcg(1)): InstanceType<typeof Jimp> {
  const img = new Jimp({ width: scene.width, height: scene.height });
  const out = img.bitmap.data;
  const [ax, ay] = scene.at;
  const specks = scene.specks ?? [];
  for (let y = 0; y < scene.height; y++) {
    for (let x = 0; x < scene.width; x++) {
      const dx = floor((x - ax) / scene.scale);
      const dy = floor((y - ay) / scene.scale);
      let a = dx >= 0 && dx < 28 && dy >= 0 && dy < 28 ? digit.data[dy * 28 + dx]! : 0;
      for (const [sx, sy] of specks) if (abs(x - sx) <= 1 && abs(y - sy) <= 1) a = 1;
      const light = scene.light?.(x, y) ?? 1;
      const grain = scene.noise === undefined ? 0 : scene.noise * gaussian(random);
      const p = (y * scene.width + x) * 4;
      for (let c = 0; c < 3; c++) out[p + c] = round(min(255, max(0, (scene.paper[c]! * (1 - a) + scene.ink[c]! * a) * light + grain)));
      out[p + 3] = 255;
    }
  }
  return img;
}

async function throughRecipe(img: InstanceType<typeof Jimp>, as: 'png' | 'jpeg' = 'png'): Promise<Float32Array> {
  // No PNG row filters: pngjs's filter search is slow inside Jest's VM and irrelevant here.
  const bytes = as === 'png' ? await img.getBuffer('image/png', { filterType: PNGFilterType.NONE }) : await img.getBuffer('image/jpeg', { quality: 90 });
  return mnistDigitInput(await decodeToGray(bytes, TEST_LIMITS));
}

describe('mnistDigitInput', () => {
  it('keeps MNIST digits (28x28, white on black, already centred) close to themselves', async () => {
    for (const name of MNIST_FILES) {
      const digit = await mnist(name);
      const out = mnistDigitInput(digit);
      expect(out).toHaveLength(784);
      // MNIST rounded its centring shift to whole pixels; the recipe places the centre of mass
      // exactly, i.e. moves these digits by up to half a pixel, which shares edge ink between
      // neighbours: measured 0.019-0.052 (a whole-pixel shift would be ~0.1). Pixel values stay
      // 0..1 with solid strokes.
      expect(meanAbsDiff(out, digit.data)).toBeLessThan(0.06);
      const [cx, cy] = centreOfMass(out);
      expect(Math.abs(cx - 14)).toBeLessThan(0.1);
      expect(Math.abs(cy - 14)).toBeLessThan(0.1);
      expect(Math.max(...out)).toBeGreaterThan(0.95);
      expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    }
  });

  it('gives the same tensor for the digit inverted (dark on white), enlarged 5x and off-centre on a 400x300 canvas', async () => {
    for (const name of ['0', '1', '4', '8', 'mnist-1001']) {
      const digit = await mnist(name);
      const centred = mnistDigitInput(digit);
      const scene: Scene = { width: 400, height: 300, at: [237, 31], scale: 5, paper: [255, 255, 255], ink: [0, 0, 0] };
      // Pixel replication then area averaging gives back the 28x28 pixels exactly; what remains
      // is 8-bit rounding of the inverted values and the contrast floor: measured <= 0.006 for
      // PNG, <= 0.007 through JPEG quality 90 (a one-pixel shift would be ~0.1).
      expect(meanAbsDiff(await throughRecipe(paint(digit, scene)), centred)).toBeLessThan(0.01);
      expect(meanAbsDiff(await throughRecipe(paint(digit, scene), 'jpeg'), centred)).toBeLessThan(0.015);
    }
  });

  it('sees through coloured ink, tinted unevenly lit paper, sensor noise, specks and JPEG', async () => {
    for (const name of ['2', '5']) {
      const digit = await mnist(name);
      const centred = mnistDigitInput(digit);
      const scene: Scene = {
        width: 360,
        height: 270,
        at: [40, 110],
        scale: 4,
        paper: [235, 225, 195],
        ink: [35, 55, 170],
        light: (x, y) => 0.8 + 0.3 * (x / 360) - 0.1 * (y / 270) ** 2,
        noise: 6,
        specks: [
          [300, 30],
          [320, 240],
          [20, 20],
        ],
      };
      // Noise, JPEG and 8-bit steps on a 0.35-contrast ink survive the area averaging as small
      // wobbles of the stroke edges: measured 0.007 and 0.014.
      expect(meanAbsDiff(await throughRecipe(paint(digit, scene), 'jpeg'), centred)).toBeLessThan(0.03);
    }
  });

  it('finds the digit in photos with a hard-edged shadow across the page, where a smooth background fit sees nothing', async () => {
    // From the real-world set (test/fixtures/digits-realworld, second pass): before the grey
    // opening fallback these five were refused as blank (422).
    for (const file of ['5-dancingscript-shadow-0.jpg', '7-klee-shadow-1.jpg', '8-dejavusans-shadow-1.jpg', '8-dejavuserif-shadow-2.jpg', '9-liberationsans-shadow-0.jpg']) {
      const gray = await decodeToGray(readFileSync(path.join(FIXTURES, 'digits-realworld', file)), TEST_LIMITS);
      const input = mnistDigitInput(gray);
      // A digit-sized blob of ink, centred by mass like MNIST (not a page-wide shadow band).
      const ink = input.reduce((a, b) => a + b, 0);
      expect(ink).toBeGreaterThan(40);
      expect(ink).toBeLessThan(250);
      const [cx, cy] = centreOfMass(input);
      expect(Math.abs(cx - 13.5)).toBeLessThan(1.5);
      expect(Math.abs(cy - 13.5)).toBeLessThan(1.5);
    }
  });

  it('gives each image the same tensor whatever images came before it (the working arrays are reused)', async () => {
    const seven = await mnist('7');
    const alone = mnistDigitInput(seven).slice();
    // A larger picture grows every working array; a blank one throws half-way through the recipe.
    const large = await throughRecipe(paint(await mnist('3'), { width: 400, height: 300, at: [120, 40], scale: 6, paper: [250, 250, 245], ink: [20, 20, 90] }));
    expect(() => mnistDigitInput({ width: 28, height: 28, data: new Float32Array(784) })).toThrow(UnusableImage);
    const again = mnistDigitInput(seven);
    expect(Array.from(again)).toEqual(Array.from(alone));
    // A result is the caller's own: later images do not write into it.
    const largeBefore = large.slice();
    mnistDigitInput(seven);
    expect(Array.from(large)).toEqual(Array.from(largeBefore));
  });

  it('refuses an image with nothing on it (422)', () => {
    const blank = (fill: (i: number) => number): GrayImage => ({ width: 120, height: 90, data: Float32Array.from({ length: 120 * 90 }, (_, i) => fill(i)) });
    const random = lcg(7);
    for (const img of [
      blank(() => 1),
      blank(() => 0),
      blank(() => 0.4),
      blank((i) => 0.6 + 0.3 * ((i % 120) / 120)), // a lighting gradient only
      blank(() => 0.8 + 0.02 * gaussian(random)), // sensor noise only
    ]) {
      expect(() => mnistDigitInput(img)).toThrow(UnusableImage);
    }
    try {
      mnistDigitInput(blank(() => 1));
    } catch (err) {
      expect((err as UnusableImage).status).toBe(422);
      expect((err as UnusableImage).detail).toMatch(/No digit found/);
    }
  });

  it('handles a 4000x3000 photo quickly (it is reduced before any analysis)', () => {
    const width = 4000;
    const height = 3000;
    const data = new Float32Array(width * height).fill(0.85);
    // A dark ring ("0") 900 px high, off-centre.
    for (let y = 1000; y < 2000; y++) {
      for (let x = 2300; x < 3200; x++) {
        const r = Math.hypot((x - 2750) / 300, (y - 1500) / 450);
        if (r > 0.8 && r < 1) data[y * width + x] = 0.15;
      }
    }
    const started = performance.now();
    const out = mnistDigitInput({ width, height, data });
    expect(performance.now() - started).toBeLessThan(1500);
    const [cx, cy] = centreOfMass(out);
    expect(Math.abs(cx - 14)).toBeLessThan(0.2);
    expect(Math.abs(cy - 14)).toBeLessThan(0.2);
    // Fitted into 20x20: 20 rows high, about 2/3 as wide.
    const rows = Array.from({ length: 28 }, (_, y) => out.slice(y * 28, y * 28 + 28).some((v) => v > 0.2)).filter(Boolean).length;
    expect(rows).toBeGreaterThanOrEqual(19);
    expect(rows).toBeLessThanOrEqual(21);
  });

  it('brings real-world style photos and scans to MNIST form', async () => {
    const dir = path.join(FIXTURES, 'digits-realworld');
    const files = readdirSync(dir)
      .filter((f) => /\.(png|jpg)$/.test(f))
      .sort()
      .filter((_, i) => i % 23 === 0);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) {
      const out = mnistDigitInput(await decodeToGray(readFileSync(path.join(dir, file)), TEST_LIMITS));
      const [cx, cy] = centreOfMass(out);
      expect([file, Math.abs(cx - 14) < 0.3 && Math.abs(cy - 14) < 0.3]).toEqual([file, true]);
      // Background black, strokes solid, the border (outside MNIST's 20x20 box) nearly empty.
      expect([file, Math.max(...out) > 0.9]).toEqual([file, true]);
      const border = out.filter((_, i) => i % 28 < 2 || i % 28 > 25 || i < 56 || i >= 728);
      expect([file, border.reduce((a, b) => a + b, 0) < 1]).toEqual([file, true]);
    }
  });

  /** An MNIST digit as dark ink on white paper, enlarged `scale` times at `at` in a width x height picture; `stroke` > 0 thickens, < 0 thins it (pixels). */
  async function onPaper(name: string, width: number, height: number, at: [number, number], scale: number, stroke = 0): Promise<GrayImage> {
    const digit = await mnist(name);
    let ink: Float32Array = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = floor((x - at[0]) / scale);
        const dy = floor((y - at[1]) / scale);
        if (dx >= 0 && dx < 28 && dy >= 0 && dy < 28) ink[y * width + x] = digit.data[dy * 28 + dx]!;
      }
    }
    if (stroke > 0) ink = dilate(ink, width, height, stroke);
    if (stroke < 0) ink = erode(ink, width, height, -stroke);
    return { width, height, data: ink.map((v) => 1 - v) };
  }

  it("leaves out a notebook's margin rule and ruled lines: the digit is placed as on blank paper", async () => {
    const blank = await onPaper('7', 320, 300, [90, 50], 7);
    const ruled: GrayImage = { ...blank, data: blank.data.slice() };
    for (let y = 0; y < 300; y++) {
      for (let x = 0; x < 320; x++) {
        const margin = x >= 30 && x <= 32; // a dark margin rule, top to bottom
        const rule = y % 40 === 20 || y % 40 === 21; // ruled lines, edge to edge
        if (margin || rule) ruled.data[y * 320 + x] = Math.min(ruled.data[y * 320 + x]!, margin ? 0.2 : 0.45);
      }
    }
    const plain = mnistDigitInput(blank);
    expect(meanAbsDiff(mnistDigitInput(ruled), plain)).toBeLessThan(0.03);
  });

  it('keeps a digit that is one straight stroke across the picture (a cropped "1")', () => {
    const data = new Float32Array(200 * 200).fill(1);
    for (let y = 0; y < 200; y++) for (let x = 98; x < 101; x++) data[y * 200 + x] = 0; // as thin as a ruled line
    const out = mnistDigitInput({ width: 200, height: 200, data });
    expect(out.reduce((a, b) => a + b, 0)).toBeGreaterThan(8);
    expect(centreOfMass(out)[0]).toBeCloseTo(14, 0);
  });

  it("brings marker-thick and hairline strokes back into MNIST's range; MNIST-like strokes stay as they are", async () => {
    const mnistWidths = await Promise.all(['1', '3', '7', '8'].map(async (n) => strokeWidth(mnistDigitInput(await mnist(n)))));
    for (const w of mnistWidths) expect(w).toBeGreaterThan(1.7), expect(w).toBeLessThan(5);
    const marker = await onPaper('2', 300, 300, [38, 38], 8, 14);
    const hairline = await onPaper('2', 300, 300, [38, 38], 8, -9);
    const normal = await onPaper('2', 300, 300, [38, 38], 8);
    const wNormal = strokeWidth(mnistDigitInput(normal));
    expect(strokeWidth(mnistDigitInput(marker))).toBeLessThan(4.3);
    expect(strokeWidth(mnistDigitInput(hairline))).toBeGreaterThan(1.6);
    expect(meanAbsDiff(mnistDigitInput(normal), mnistDigitInput(await mnist('2')))).toBeLessThan(0.05);
    expect(wNormal).toBeGreaterThan(1.7);
  });
});
