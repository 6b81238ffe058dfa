/**
 * Renders the "real-world" digit fixture set: digits 0-9 as a person would photograph or scan them.
 *
 * Rerun (Debian; the fonts come from apt, the canvas is installed without touching package.json):
 *
 *   apt-get install -y fonts-dejavu-core fonts-liberation fonts-urw-base35 fonts-comic-neue \
 *     fonts-dkg-handwriting fonts-breip fonts-bwht fonts-humor-sans fonts-dancingscript \
 *     fonts-kaushanscript fonts-kristi fonts-ecolier-court fonts-rufscript fonts-lobster \
 *     fonts-leckerli-one fonts-klee fonts-gnutypewriter fonts-opendyslexic
 *   npm install --no-save @napi-rs/canvas && npx ts-node scripts/make-realworld-digits.ts
 *
 * Options: --seed N (default 20250601) --out DIR (default test/fixtures/digits-realworld).
 * The output is a pure function of the seed and the font files: the RNG is seeded (mulberry32) and
 * nothing reads the clock. Each image: light paper (tinted, unevenly lit) with a dark digit in
 * black, blue-black, blue or red ink, or (about 1 in 10) a light digit on a dark board; side 40 to
 * 600 px, digit height 30-80% of the image, off-centre, rotated up to +-9 degrees, sometimes
 * thickened (marker), blurred; PNG (clean scans, side <= 350) or JPEG quality 40-90 with sensor
 * noise (photos).
 * A second pass (seed + 1) adds the harder scenarios (ruled paper, hard shadows, 28x28
 * thumbnails with small digits in 8-bit / palette / 16-bit PNG, canvas drawings, some transparent).
 * Files are named <label>-<font>-<n>.<png|jpg> (first pass) and <label>-<font>-<scenario>-<n>
 * (second pass); manifest.json records every image's parameters.
 *
 * `@napi-rs/canvas` is loaded with a typed require (interfaces below) so that `tsc --noEmit`
 * passes in a clone where it is not installed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mulberry32, type Random } from '../src/training/prng';

interface TextMetricsLike {
  actualBoundingBoxLeft: number;
  actualBoundingBoxRight: number;
  actualBoundingBoxAscent: number;
  actualBoundingBoxDescent: number;
}
interface ImageDataLike {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}
interface Context2D {
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineJoin: string;
  font: string;
  textBaseline: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  strokeText(text: string, x: number, y: number): void;
  measureText(text: string): TextMetricsLike;
  translate(x: number, y: number): void;
  rotate(angle: number): void;
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void;
  getImageData(x: number, y: number, w: number, h: number): ImageDataLike;
  putImageData(data: ImageDataLike, x: number, y: number): void;
}
interface CanvasLike {
  getContext(kind: '2d'): Context2D;
  encode(format: 'png'): Promise<Buffer>;
  encode(format: 'jpeg', quality: number): Promise<Buffer>;
}
interface CanvasModule {
  createCanvas(width: number, height: number): CanvasLike;
  GlobalFonts: { registerFromPath(file: string, alias: string): unknown };
}

function loadCanvas(): CanvasModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@napi-rs/canvas') as CanvasModule;
  } catch {
    throw new Error('@napi-rs/canvas is not installed: run `npm install --no-save @napi-rs/canvas` first.');
  }
}

/** A font, the Debian package that ships it, its licence, and how many renderings per digit. */
interface FontSpec {
  slug: string;
  file: string;
  debianPackage: string;
  licence: string;
  style: 'print' | 'hand';
  perDigit: number;
}

const FONTS: FontSpec[] = [
  { slug: 'dejavusans', file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', debianPackage: 'fonts-dejavu-core', licence: 'Bitstream Vera licence (DejaVu changes public domain)', style: 'print', perDigit: 1 },
  { slug: 'dejavuserif', file: '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf', debianPackage: 'fonts-dejavu-core', licence: 'Bitstream Vera licence (DejaVu changes public domain)', style: 'print', perDigit: 1 },
  { slug: 'liberationsans', file: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', debianPackage: 'fonts-liberation', licence: 'GPL-2 with font exception', style: 'print', perDigit: 1 },
  { slug: 'liberationserif', file: '/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf', debianPackage: 'fonts-liberation', licence: 'GPL-2 with font exception', style: 'print', perDigit: 1 },
  { slug: 'nimbussans', file: '/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf', debianPackage: 'fonts-urw-base35', licence: 'AGPL-3 with font exception', style: 'print', perDigit: 1 },
  { slug: 'comicneue', file: '/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf', debianPackage: 'fonts-comic-neue', licence: 'OFL-1.1', style: 'print', perDigit: 1 },
  { slug: 'dkg', file: '/usr/share/fonts/truetype/fifthhorseman/dkg.ttf', debianPackage: 'fonts-dkg-handwriting', licence: 'GPL-3+ (TTF as packaged; its .sfd source is OFL-1.1)', style: 'hand', perDigit: 2 },
  { slug: 'breip', file: '/usr/share/fonts/truetype/breip/Breip.ttf', debianPackage: 'fonts-breip', licence: 'OFL-1.0', style: 'hand', perDigit: 2 },
  { slug: 'bwlearn', file: '/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf', debianPackage: 'fonts-bwht', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'bwbuild', file: '/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf', debianPackage: 'fonts-bwht', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'bwconnect', file: '/usr/share/fonts/opentype/bwht/BecauseWeConnect-Regular.otf', debianPackage: 'fonts-bwht', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'bwcreate', file: '/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf', debianPackage: 'fonts-bwht', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'bwmentor', file: '/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf', debianPackage: 'fonts-bwht', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'bworganize', file: '/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf', debianPackage: 'fonts-bwht', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'humorsans', file: '/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf', debianPackage: 'fonts-humor-sans', licence: 'OFL-1.1', style: 'hand', perDigit: 2 },
  { slug: 'dancingscript', file: '/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf', debianPackage: 'fonts-dancingscript', licence: 'OFL-1.1', style: 'hand', perDigit: 1 },
  { slug: 'kaushanscript', file: '/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf', debianPackage: 'fonts-kaushanscript', licence: 'OFL-1.1', style: 'hand', perDigit: 1 },
  { slug: 'kristi', file: '/usr/share/fonts/truetype/kristi/Kristi.ttf', debianPackage: 'fonts-kristi', licence: 'OFL-1.1', style: 'hand', perDigit: 1 },
];

/**
 * Fonts of the harder second pass only (the first pass stays byte-identical): more handwriting,
 * a school cursive, a typewriter and a dyslexia-friendly print.
 */
const MORE_FONTS: FontSpec[] = [
  { slug: 'ecolier', file: '/usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf', debianPackage: 'fonts-ecolier-court', licence: 'OFL-1.1', style: 'hand', perDigit: 0 },
  { slug: 'rufscript', file: '/usr/share/fonts/truetype/rufscript/Rufscript010.ttf', debianPackage: 'fonts-rufscript', licence: 'GPL-3+ with font exception', style: 'hand', perDigit: 0 },
  { slug: 'lobster', file: '/usr/share/fonts/opentype/lobster/lobster.otf', debianPackage: 'fonts-lobster', licence: 'OFL-1.1', style: 'hand', perDigit: 0 },
  { slug: 'leckerli', file: '/usr/share/fonts/truetype/leckerli-one/LeckerliOne-Regular.ttf', debianPackage: 'fonts-leckerli-one', licence: 'OFL-1.1', style: 'hand', perDigit: 0 },
  { slug: 'klee', file: '/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf', debianPackage: 'fonts-klee', licence: 'OFL-1.1', style: 'hand', perDigit: 0 },
  { slug: 'typewriter', file: '/usr/share/fonts/truetype/gnutypewriter/GNUTypewriter.ttf', debianPackage: 'fonts-gnutypewriter', licence: 'OFL-1.1', style: 'print', perDigit: 0 },
  { slug: 'opendyslexic', file: '/usr/share/fonts/opentype/opendyslexic/OpenDyslexic-Regular.otf', debianPackage: 'fonts-opendyslexic', licence: 'CC-BY-3.0 and Bitstream', style: 'print', perDigit: 0 },
];

/**
 * The harder second pass (seed + 1): what users send that the first pass lacks. Per digit:
 * `ruled` ballpoint on ruled (and margined) paper; `shadow` a hard shadow across the page;
 * `thumb` a 13-18 px digit anywhere in a 28x28 frame (PNG: 8-bit, palette or 16-bit);
 * `canvas` a thick round stroke on a drawing canvas (white, or transparent as canvas exports are).
 * Fonts go round-robin over the handwriting fonts of both lists and the print fonts.
 */
type Scenario = 'ruled' | 'shadow' | 'thumb' | 'canvas';
const SCENARIOS: [Scenario, number][] = [
  ['ruled', 5],
  ['shadow', 3],
  ['thumb', 8],
  ['canvas', 4],
];

const uniform = (r: Random, lo: number, hi: number): number => lo + (hi - lo) * r();
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
function gaussian(r: Random): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

type Rgb = [number, number, number];

/** Everything that defines one image; recorded in manifest.json. */
interface Params {
  file: string;
  label: number;
  font: string;
  width: number;
  height: number;
  digitHeightFraction: number;
  centre: [number, number];
  rotationDeg: number;
  thicken: number;
  polarity: 'dark-on-light' | 'light-on-dark';
  paper: Rgb;
  ink: Rgb;
  lighting: { gx: number; gy: number; vignette: number };
  blurRadius: number;
  noiseSigma: number;
  format: 'png' | 'jpeg';
  jpegQuality?: number;
  /** Second pass only. */
  scenario?: Scenario;
  ruled?: { pitch: number; phase: number; margin: number | null; alpha: number };
  shadow?: { angleDeg: number; offset: number; depth: number; softness: number };
  /** PNG sample format (second pass): 8-bit RGB, palette, 16-bit RGB, or RGBA with a transparent background. */
  encoding?: 'rgb8' | 'palette' | 'rgb16' | 'transparent';
}

const INKS: Record<string, Rgb> = {
  black: [0.08, 0.08, 0.09],
  graphite: [0.25, 0.25, 0.27],
  'blue-black': [0.1, 0.12, 0.3],
  blue: [0.1, 0.2, 0.65],
  red: [0.7, 0.1, 0.12],
};

function chooseParams(r: Random, label: number, font: FontSpec): Omit<Params, 'file'> {
  const longSide = Math.round(Math.exp(uniform(r, Math.log(40), Math.log(600))));
  const aspect = uniform(r, 0.75, 1.33);
  const width = aspect >= 1 ? longSide : Math.max(40, Math.round(longSide * aspect));
  const height = aspect >= 1 ? Math.max(40, Math.round(longSide / aspect)) : longSide;
  const lightOnDark = r() < 0.1;
  const inkName = pick(r, ['black', 'black', 'graphite', 'blue-black', 'blue', 'blue', 'red']);
  const base = uniform(r, 0.78, 0.97);
  const tint: Rgb = [base * uniform(r, 0.97, 1.03), base * uniform(r, 0.96, 1.01), base * uniform(r, 0.88, 1.0)];
  const board = uniform(r, 0.08, 0.3);
  const chalk = uniform(r, 0.8, 0.97);
  // Large pictures are photos (JPEG); PNGs are clean scans (no sensor noise, so they stay small).
  const jpeg = r() < 0.6 || longSide > 350;
  return {
    label,
    font: font.slug,
    width,
    height,
    digitHeightFraction: uniform(r, 0.3, 0.8),
    centre: [uniform(r, 0, 1), uniform(r, 0, 1)], // where in the free room the digit goes
    rotationDeg: uniform(r, -9, 9),
    thicken: r() < 0.35 ? uniform(r, 0.02, 0.07) : 0,
    polarity: lightOnDark ? 'light-on-dark' : 'dark-on-light',
    paper: lightOnDark ? [board, board * uniform(r, 1, 1.15), board] : tint,
    ink: lightOnDark ? [chalk, chalk, chalk * uniform(r, 0.9, 1)] : INKS[inkName]!,
    lighting: { gx: uniform(r, -0.12, 0.12), gy: uniform(r, -0.12, 0.12), vignette: uniform(r, 0, 0.15) },
    blurRadius: r() < 0.4 ? uniform(r, 0.5, Math.max(0.6, longSide / 200)) : 0,
    noiseSigma: jpeg ? uniform(r, 0.004, 0.03) : 0,
    format: jpeg ? 'jpeg' : 'png',
    ...(jpeg ? { jpegQuality: Math.round(uniform(r, 40, 90)) } : {}),
  };
}

function chooseHard(r: Random, label: number, font: FontSpec, scenario: Scenario): Omit<Params, 'file'> {
  const base = chooseParams(r, label, font);
  const paperLevel = uniform(r, 0.82, 0.98);
  const paper: Rgb = [paperLevel, paperLevel * uniform(r, 0.98, 1.01), paperLevel * uniform(r, 0.92, 1.0)];
  const noLight = { gx: 0, gy: 0, vignette: 0 };
  switch (scenario) {
    case 'ruled': {
      const longSide = Math.round(Math.exp(uniform(r, Math.log(60), Math.log(500))));
      const jpeg = r() < 0.6;
      return {
        ...base,
        width: longSide,
        height: Math.max(40, Math.round(longSide * uniform(r, 0.75, 1.1))),
        digitHeightFraction: uniform(r, 0.35, 0.7),
        polarity: 'dark-on-light',
        paper,
        ink: INKS[pick(r, ['blue', 'blue', 'blue-black', 'black', 'graphite'])]!,
        thicken: 0,
        blurRadius: 0,
        noiseSigma: jpeg ? uniform(r, 0.004, 0.02) : 0,
        format: jpeg ? 'jpeg' : 'png',
        ...(jpeg ? { jpegQuality: Math.round(uniform(r, 50, 90)) } : {}),
        scenario,
        ruled: { pitch: uniform(r, 0.12, 0.25), phase: r(), margin: r() < 0.3 ? uniform(r, 0.05, 0.3) : null, alpha: uniform(r, 0.5, 0.9) },
      };
    }
    case 'shadow':
      return {
        ...base,
        polarity: 'dark-on-light',
        paper,
        ink: INKS[pick(r, ['black', 'blue', 'blue-black', 'graphite'])]!,
        format: 'jpeg',
        jpegQuality: Math.round(uniform(r, 50, 90)),
        noiseSigma: uniform(r, 0.004, 0.025),
        scenario,
        shadow: { angleDeg: uniform(r, 0, 360), offset: uniform(r, -0.3, 0.3), depth: uniform(r, 0.25, 0.5), softness: uniform(r, 0.01, 0.08) },
      };
    case 'thumb': {
      const dark = r() < 0.5;
      return {
        ...base,
        width: 28,
        height: 28,
        digitHeightFraction: uniform(r, 13, 18) / 28,
        rotationDeg: uniform(r, -6, 6),
        thicken: r() < 0.3 ? uniform(r, 0.02, 0.05) : 0,
        polarity: dark ? 'light-on-dark' : 'dark-on-light',
        paper: dark ? [0, 0, 0] : [1, 1, 1],
        ink: dark ? [1, 1, 1] : [0, 0, 0],
        lighting: noLight,
        blurRadius: 0,
        noiseSigma: 0,
        format: 'png',
        scenario,
        encoding: pick(r, ['rgb8', 'palette', 'rgb16'] as const),
      };
    }
    case 'canvas': {
      const side = Math.round(uniform(r, 200, 400));
      return {
        ...base,
        width: side,
        height: side,
        digitHeightFraction: uniform(r, 0.5, 0.85),
        thicken: uniform(r, 0.08, 0.14),
        polarity: 'dark-on-light',
        paper: [1, 1, 1],
        ink: [0, 0, 0],
        lighting: noLight,
        blurRadius: 0,
        noiseSigma: 0,
        format: 'png',
        scenario,
        encoding: r() < 0.5 ? 'transparent' : 'rgb8',
      };
    }
  }
}

/** Brightness factor of the paper under a hard-edged shadow (1 outside it, 1 - depth inside). */
function shadowAt(p: Omit<Params, 'file'>, x: number, y: number): number {
  if (!p.shadow) return 1;
  const a = (p.shadow.angleDeg * Math.PI) / 180;
  const u = ((x / (p.width - 1) - 0.5) * Math.cos(a) + (y / (p.height - 1) - 0.5) * Math.sin(a) - p.shadow.offset) / p.shadow.softness;
  return 1 - p.shadow.depth / (1 + Math.exp(-u));
}

/** Paper with its ruled lines (light blue, every `pitch` of the height) and red margin, 0..1 per channel. */
function paperAt(p: Omit<Params, 'file'>, x: number, y: number, c: number): number {
  let v = p.paper[c]!;
  if (p.ruled) {
    const pitch = p.ruled.pitch * p.height;
    const d = Math.abs((((y + p.ruled.phase * pitch) % pitch) + pitch) % pitch);
    const line = Math.max(0, 1 - Math.min(d, pitch - d)); // about 1 px wide
    v = v * (1 - line * p.ruled.alpha) + [0.55, 0.7, 0.95][c]! * line * p.ruled.alpha;
    if (p.ruled.margin !== null) {
      const m = Math.max(0, 1 - Math.abs(x - p.ruled.margin * p.width));
      v = v * (1 - m * 0.8) + [0.85, 0.3, 0.3][c]! * m * 0.8;
    }
  }
  return v;
}

/** Renders the glyph coverage (0..1) at the requested size, position and rotation. */
function glyphCoverage(canvasModule: CanvasModule, p: Omit<Params, 'file'>, family: string): Float32Array {
  const canvas = canvasModule.createCanvas(p.width, p.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, p.width, p.height);
  const text = String(p.label);
  ctx.font = `100px "${family}"`;
  ctx.textBaseline = 'alphabetic';
  const m = ctx.measureText(text);
  const glyphW = m.actualBoundingBoxLeft + m.actualBoundingBoxRight;
  const glyphH = m.actualBoundingBoxAscent + m.actualBoundingBoxDescent;
  // Font size giving the requested digit height, shrunk if the (rotated) glyph would not fit.
  let size = (100 * p.digitHeightFraction * p.height) / glyphH;
  const angle = (p.rotationDeg * Math.PI) / 180;
  const extent = (s: number): [number, number] => {
    const w = ((glyphW + p.thicken * 100) * s) / 100;
    const h = ((glyphH + p.thicken * 100) * s) / 100;
    const c = Math.abs(Math.cos(angle));
    const sn = Math.abs(Math.sin(angle));
    return [w * c + h * sn, w * sn + h * c];
  };
  const margin = 2;
  const [ew, eh] = extent(size);
  const fit = Math.min(1, (p.width - 2 * margin) / ew, (p.height - 2 * margin) / eh);
  size *= fit;
  const [fw, fh] = extent(size);
  const cx = fw / 2 + margin + p.centre[0] * Math.max(0, p.width - fw - 2 * margin);
  const cy = fh / 2 + margin + p.centre[1] * Math.max(0, p.height - fh - 2 * margin);
  ctx.translate(cx, cy);
  ctx.rotate(angle);
  ctx.font = `${size}px "${family}"`;
  const k = size / 100;
  const x = -((m.actualBoundingBoxRight - m.actualBoundingBoxLeft) * k) / 2;
  const y = ((m.actualBoundingBoxAscent - m.actualBoundingBoxDescent) * k) / 2;
  ctx.fillStyle = '#000';
  ctx.fillText(text, x, y);
  if (p.thicken > 0) {
    ctx.strokeStyle = '#000';
    ctx.lineJoin = 'round';
    ctx.lineWidth = p.thicken * size;
    ctx.strokeText(text, x, y);
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const rgba = ctx.getImageData(0, 0, p.width, p.height).data;
  const coverage = new Float32Array(p.width * p.height);
  for (let i = 0; i < coverage.length; i++) coverage[i] = 1 - rgba[i * 4]! / 255;
  return coverage;
}

/** Separable box blur repeated 3 times (close to a Gaussian of the given radius). */
function blur(values: Float32Array, width: number, height: number, radius: number): Float32Array {
  const r = Math.max(1, Math.round(radius));
  let src = values;
  for (let pass = 0; pass < 3; pass++) {
    const tmp = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        let n = 0;
        for (let d = -r; d <= r; d++) {
          const xx = x + d;
          if (xx >= 0 && xx < width) {
            s += src[y * width + xx]!;
            n++;
          }
        }
        tmp[y * width + x] = s / n;
      }
    }
    const out = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        let n = 0;
        for (let d = -r; d <= r; d++) {
          const yy = y + d;
          if (yy >= 0 && yy < height) {
            s += tmp[yy * width + x]!;
            n++;
          }
        }
        out[y * width + x] = s / n;
      }
    }
    src = out;
  }
  return src;
}

async function render(canvasModule: CanvasModule, r: Random, p: Params): Promise<Buffer> {
  let coverage = glyphCoverage(canvasModule, p, p.font);
  if (p.blurRadius > 0) coverage = blur(coverage, p.width, p.height, p.blurRadius / 2);
  const canvas = canvasModule.createCanvas(p.width, p.height);
  const ctx = canvas.getContext('2d');
  const image = ctx.getImageData(0, 0, p.width, p.height);
  for (let y = 0; y < p.height; y++) {
    const v = (2 * y) / (p.height - 1) - 1;
    for (let x = 0; x < p.width; x++) {
      const u = (2 * x) / (p.width - 1) - 1;
      const light = 1 + p.lighting.gx * u + p.lighting.gy * v - p.lighting.vignette * (u * u + v * v) / 2;
      const a = coverage[y * p.width + x]!;
      const grain = gaussian(r) * p.noiseSigma;
      const shade = shadowAt(p, x, y);
      for (let c = 0; c < 3; c++) {
        const value = (paperAt(p, x, y, c) * (1 - a) + p.ink[c]! * a) * light * shade + grain + gaussian(r) * p.noiseSigma * 0.5;
        image.data[(y * p.width + x) * 4 + c] = Math.round(255 * Math.min(1, Math.max(0, value)));
      }
      image.data[(y * p.width + x) * 4 + 3] = 255;
      if (p.encoding === 'transparent') {
        // A drawing app's export: ink colour everywhere, the stroke only in the alpha channel.
        image.data.set([0, 0, 0, Math.round(255 * a)], (y * p.width + x) * 4);
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  if (p.encoding === 'palette' || p.encoding === 'rgb16') {
    // sharp (a project dependency) writes the PNG sample formats the canvas cannot.
    const raw = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: p.width, height: p.height, channels: 4 } }).removeAlpha();
    return p.encoding === 'palette' ? raw.png({ palette: true, colours: 64, dither: 0 }).toBuffer() : raw.toColourspace('rgb16').png().toBuffer();
  }
  return p.format === 'png' ? canvas.encode('png') : canvas.encode('jpeg', p.jpegQuality ?? 85);
}

function parseArgs(argv: string[]): { seed: number; out: string } {
  let seed = 20250601;
  let out = path.join(__dirname, '..', 'test', 'fixtures', 'digits-realworld');
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--seed') seed = Number(argv[i + 1]);
    else if (argv[i] === '--out') out = path.resolve(argv[i + 1] ?? '');
    else throw new Error(`unknown argument ${argv[i]} (use --seed N, --out DIR)`);
  }
  if (!Number.isInteger(seed)) throw new Error('--seed needs an integer');
  return { seed, out };
}

async function main(): Promise<void> {
  const { seed, out } = parseArgs(process.argv.slice(2));
  const canvasModule = loadCanvas();
  for (const f of [...FONTS, ...MORE_FONTS]) {
    if (!existsSync(f.file)) throw new Error(`${f.file} is missing: apt-get install ${f.debianPackage}`);
    if (!canvasModule.GlobalFonts.registerFromPath(f.file, f.slug)) throw new Error(`could not load ${f.file}`);
  }
  mkdirSync(out, { recursive: true });
  for (const old of readdirSync(out)) if (/\.(png|jpg)$/.test(old)) rmSync(path.join(out, old));
  const random = mulberry32(seed);
  const manifest: Params[] = [];
  let bytes = 0;
  for (const font of FONTS) {
    for (let label = 0; label < 10; label++) {
      for (let n = 0; n < font.perDigit; n++) {
        const params = chooseParams(random, label, font);
        const file = `${label}-${font.slug}-${n}.${params.format === 'png' ? 'png' : 'jpg'}`;
        const p: Params = { file, ...params };
        const data = await render(canvasModule, random, p);
        writeFileSync(path.join(out, file), data);
        bytes += data.length;
        manifest.push(p);
      }
    }
  }
  // Second pass: the harder scenarios, from their own seed, so the first pass is unchanged.
  const hardRandom = mulberry32(seed + 1);
  const handFonts = [...FONTS, ...MORE_FONTS];
  let turn = 0;
  for (const [scenario, perDigit] of SCENARIOS) {
    for (let label = 0; label < 10; label++) {
      for (let n = 0; n < perDigit; n++) {
        const font = handFonts[turn++ % handFonts.length]!;
        const params = chooseHard(hardRandom, label, font, scenario);
        const file = `${label}-${font.slug}-${scenario}-${n}.${params.format === 'png' ? 'png' : 'jpg'}`;
        const p: Params = { file, ...params };
        const data = await render(canvasModule, hardRandom, p);
        writeFileSync(path.join(out, file), data);
        bytes += data.length;
        manifest.push(p);
      }
    }
  }
  const round = (x: unknown): unknown =>
    typeof x === 'number' ? Number(x.toFixed(3)) : Array.isArray(x) ? x.map(round) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round(v)])) : x;
  writeFileSync(
    path.join(out, 'manifest.json'),
    `{"seed": ${seed}, "generator": "scripts/make-realworld-digits.ts",\n"fonts": [\n${[...FONTS, ...MORE_FONTS].map((f) => JSON.stringify(f)).join(',\n')}\n],\n"images": [\n${manifest.map((p) => JSON.stringify(round(p))).join(',\n')}\n]}\n`,
  );
  console.log(`${manifest.length} images, ${(bytes / 1024).toFixed(0)} KiB -> ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
