import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Jimp, type loadFont, measureText, PNGFilterType } from 'jimp';
import sharp from 'sharp';
import type { Report } from './evaluation';

/**
 * confusion-matrix.png, written by `specserve train` beside MODEL_CARD.md: the test (else
 * validation) confusion matrix as a picture. Single-label: rows are the true labels, columns the
 * predicted ones; multi-label: one row per label with its true positives, misses, false alarms
 * and true negatives. Each cell shows its count, tinted by its share of the row: blue on the
 * diagonal (right), red off it (wrong), so the errors that matter stand out. jimp draws it with
 * its bundled bitmap font (nothing to install).
 */

type Font = Awaited<ReturnType<typeof loadFont>>;

/** The numeric attributes of an XML element's tag: `<char id="48" x="3" />` -> { id: 48, x: 3 }. */
function attributes(tag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of tag.matchAll(/(\w+)="(-?[\d.]+)"/g)) out[m[1]!] = Number(m[2]);
  return out;
}

/**
 * jimp's bundled Open Sans 12 (a BMFont: XML metrics + one PNG page), read without jimp's
 * loadFont, whose `await import('fs')` fails inside Jest's VM; the same font object results.
 */
async function bundledFont(): Promise<Font> {
  const xml = readFileSync(SANS_12_BLACK, 'utf8');
  const chars: Record<string, Record<string, number>> = {};
  for (const m of xml.matchAll(/<char [^>]*>/g)) {
    const c = attributes(m[0]);
    chars[String.fromCharCode(c.id!)] = c;
  }
  const kernings: Record<string, Record<string, number>> = {};
  for (const m of xml.matchAll(/<kerning [^>]*>/g)) {
    const k = attributes(m[0]);
    const first = String.fromCharCode(k.first!);
    (kernings[first] ??= {})[String.fromCharCode(k.second!)] = k.amount!;
  }
  const page = /<page [^>]*file="([^"]+)"/.exec(xml)![1]!;
  const { data, info } = await sharp(path.join(path.dirname(SANS_12_BLACK), page)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pageImage = new Jimp({ width: info.width, height: info.height });
  pageImage.bitmap.data.set(data);
  const common = attributes(/<common [^>]*>/.exec(xml)![0]);
  const fontInfo = attributes(/<info [^>]*>/.exec(xml)![0]);
  return { info: fontInfo, common, chars, kernings, pages: [pageImage] } as unknown as Font;
}

// jimp's bundled fonts are a subpath export, which this project's TypeScript module resolution
// (node10) cannot type; Node resolves it at run time. The value is the .fnt file's path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SANS_12_BLACK } = require('jimp/fonts') as { SANS_12_BLACK: string };

const CELL = 46;
const PAD = 8;
const LINE = 16;

type Rgb = [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const RIGHT: Rgb = [66, 120, 210];
const WRONG: Rgb = [220, 60, 50];

/** `share` 0..1 of the way from white to `to` (a square root, so that a few errors still show). */
function tint(to: Rgb, share: number): number {
  const s = Math.sqrt(Math.min(1, Math.max(0, share))) * 0.85;
  const [r, g, b] = WHITE.map((w, i) => Math.round(w + (to[i]! - w) * s)) as Rgb;
  return ((r << 24) | (g << 16) | (b << 8) | 0xff) >>> 0;
}

export interface ConfusionTable {
  title: string;
  rows: string[];
  columns: string[];
  counts: number[][];
  /** Which cells count as right answers (tinted blue). */
  right: (row: number, column: number) => boolean;
}

/** The table of a report: single-label confusion, or per-label TP / FN / FP / TN. */
export function confusionTable(title: string, report: Report): ConfusionTable {
  if (report.task === 'single') {
    const labels = Object.keys(report.perClass);
    return { title, rows: labels, columns: labels, counts: report.confusion, right: (r, c) => r === c };
  }
  const labels = Object.keys(report.perLabel);
  return {
    title,
    rows: labels,
    columns: ['present, found', 'present, missed', 'absent, found', 'absent, not found'],
    counts: labels.map((l) => {
      const c = report.perLabel[l]!.counts;
      return [c.tp, c.fn, c.fp, c.tn];
    }),
    right: (_r, c) => c === 0 || c === 3,
  };
}

/** Cuts `text` to fit `width` pixels in `font`, with an ellipsis-like trailing '.'. */
function fit(font: Font, text: string, width: number): string {
  if (measureText(font, text) <= width) return text;
  let t = text;
  while (t.length > 1 && measureText(font, `${t}.`) > width) t = t.slice(0, -1);
  return `${t}.`;
}

export async function confusionMatrixPng(t: ConfusionTable): Promise<Uint8Array> {
  const font = await bundledFont();
  const rowLabelWidth = Math.min(140, Math.max(...t.rows.map((r) => measureText(font, r))) + PAD);
  // Multi-label columns are words ("present, missed"): twice as wide.
  const square = t.rows === t.columns;
  const columnWidth = square ? CELL : CELL * 2;
  const width = PAD + rowLabelWidth + t.columns.length * columnWidth + PAD;
  const top = PAD + LINE * 2 + 4;
  const height = top + t.rows.length * CELL + PAD + LINE;
  const image = new Jimp({ width, height, color: 0xffffffff });
  image.print({ font, x: PAD, y: PAD, text: fit(font, t.title, width - 2 * PAD) });
  const x0 = PAD + rowLabelWidth;
  t.columns.forEach((c, j) => image.print({ font, x: x0 + j * columnWidth + 2, y: PAD + LINE, text: fit(font, c, columnWidth - 4) }));
  t.counts.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const y = top + i * CELL;
    image.print({ font, x: PAD, y: y + CELL / 2 - 7, text: fit(font, t.rows[i]!, rowLabelWidth - 4) });
    row.forEach((count, j) => {
      const x = x0 + j * columnWidth;
      const colour = count === 0 ? tint(WHITE, 0) : tint(t.right(i, j) ? RIGHT : WRONG, count / total);
      image.scan(x + 1, y + 1, columnWidth - 2, CELL - 2, (_px, _py, idx) => {
        image.bitmap.data.writeUInt32BE(colour, idx);
      });
      const text = String(count);
      image.print({ font, x: x + (columnWidth - measureText(font, text)) / 2, y: y + CELL / 2 - 7, text });
    });
  });
  image.print({ font, x: PAD, y: height - LINE - 2, text: fit(font, square ? 'rows: true label, columns: predicted' : 'per label: counts over the test pictures', width - 2 * PAD) });
  return new Uint8Array(await image.getBuffer('image/png', { filterType: PNGFilterType.AUTO }));
}
