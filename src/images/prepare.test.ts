import { TEST_LIMITS } from '../../test/support/format-fixtures';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UnsupportedImage } from '../errors/errors';
import type { ModelMetadata } from '../model-store/metadata';
import { decodeToGray } from './decode';
import { mnistDigitInput } from './digit';
import { ACCEPTED_IMAGE_FORMATS, DEFAULT_IMAGE_LIMITS, prepareInput } from './index';

const digit = readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'mnist', '7.png'));
const MNIST_INPUT: ModelMetadata['input'] = { name: 'image', shape: [28, 28, 1], dtype: 'float32' };
const mnistModel: Pick<ModelMetadata, 'input' | 'preprocessing'> = { input: MNIST_INPUT, preprocessing: { recipe: 'mnist-digit' } };

describe('prepareInput', () => {
  it('runs the mnist-digit recipe: decode, then the MNIST preprocessing', async () => {
    const input = await prepareInput(digit, mnistModel, TEST_LIMITS);
    expect(input).toBeInstanceOf(Float32Array);
    expect(input).toHaveLength(28 * 28);
    expect(input).toEqual(mnistDigitInput(await decodeToGray(digit, TEST_LIMITS)));
  });

  it('passes the typed decoding errors through', async () => {
    await expect(prepareInput(Buffer.from('not an image'), mnistModel, TEST_LIMITS)).rejects.toBeInstanceOf(UnsupportedImage);
  });

  it('refuses a recipe it does not know (metadata validation should have caught it)', async () => {
    const unknown = { recipe: 'imagenet-rgb' } as unknown as ModelMetadata['preprocessing'];
    await expect(prepareInput(digit, { input: MNIST_INPUT, preprocessing: unknown }, TEST_LIMITS)).rejects.toThrow(/Unknown preprocessing recipe .*imagenet-rgb/);
  });

  it('exports the limits and formats the handlers use', () => {
    expect(DEFAULT_IMAGE_LIMITS).toEqual({ maxPixels: 40_000_000, minSide: 8 });
    expect(ACCEPTED_IMAGE_FORMATS).toEqual(['png', 'jpeg', 'webp', 'avif', 'heic', 'gif', 'tiff', 'bmp']);
  });
});
