/** What the image codec tests share: the format fixtures and ways to compare decoded digits. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeToGray } from '../../src/images/decode';

// test/fixtures/formats/ is made by scripts/make-format-fixtures.sh (see SOURCES.md there).
export const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const fx = (name: string): Buffer => readFileSync(path.join(FIXTURES, 'formats', name));
/** Limits that let any test image through, however small or large. */
export const ANY_SIZE = { maxPixels: 40_000_000, minSide: 1 };

/** MNIST digit d as dark ink on white paper, grey 0..1. */
export async function darkDigit(d: number) {
  const g = await decodeToGray(readFileSync(path.join(FIXTURES, 'mnist', `${d}.png`)), ANY_SIZE);
  return { ...g, data: g.data.map((v) => 1 - v) };
}

/** Mean absolute difference of two gray images of the same size. */
export function grayDiff(a: { data: Float32Array }, b: { data: Float32Array }): number {
  expect(a.data.length).toBe(b.data.length);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
}

/** The error decoding `bytes` throws (or the image, if it decodes). */
export const problem = (bytes: Uint8Array): Promise<unknown> => decodeToGray(bytes, ANY_SIZE).catch((e: unknown) => e);
