/** What the image codec tests share: the format fixtures and ways to compare decoded digits. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decodeToGray } from '../../src/images/decode';
import { activeDecoder } from '../../src/images/codec-rule';
import { IMAGE_DECODERS, acceptedFormatsText, type ImageDecoderName } from '../../src/images/formats';

/**
 * The decoder the image tests run on: IMAGE_DECODER (CI runs the image suites once with the default,
 * sharp, and once with IMAGE_DECODER=jimp), else the default.
 */
export const TEST_DECODER: ImageDecoderName = (() => {
  const raw = process.env.IMAGE_DECODER?.trim();
  if (raw === undefined || raw === '') return activeDecoder({});
  if (!(IMAGE_DECODERS as readonly string[]).includes(raw)) throw new Error(`IMAGE_DECODER=${raw}: expected one of ${IMAGE_DECODERS.join(', ')}`);
  return raw as ImageDecoderName;
})();

// test/fixtures/formats/ is made by scripts/make-format-fixtures.sh (see SOURCES.md there).
export const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const fx = (name: string): Buffer => readFileSync(path.join(FIXTURES, 'formats', name));
/** What a 415's detail lists on the decoder under test: "PNG, JPEG, ...". */
export const ACCEPTED_TEXT = acceptedFormatsText(TEST_DECODER);
/** Limits that let any test image through, however small or large. */
export const ANY_SIZE = { maxPixels: 40_000_000, minSide: 1, decoder: TEST_DECODER };
/** The server's default limits, on the decoder under test. */
export const TEST_LIMITS = { maxPixels: 40_000_000, minSide: 8, decoder: TEST_DECODER };

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
