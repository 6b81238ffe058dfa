import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../images';
import type { ModelMetadata } from '../model-store/metadata';
import { readExample, readExamples } from './examples';

const model: Pick<ModelMetadata, 'input' | 'preprocessing'> = {
  input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' },
  preprocessing: { recipe: 'mnist-digit' },
};
const png = readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'mnist', '7.png'));
const grid = (v: number) => Array.from({ length: 28 }, () => Array<number>(28).fill(v));

describe('readExample', () => {
  it('reads a nested list, bare or named', async () => {
    expect(await readExample(grid(0.5), model, DEFAULT_IMAGE_LIMITS, 'x')).toEqual(new Float32Array(784).fill(0.5));
    expect(await readExample({ image: grid(0.5) }, model, DEFAULT_IMAGE_LIMITS, 'x')).toHaveLength(784);
  });

  it("brings {b64} image bytes to the input with the model's preprocessing, bare or named", async () => {
    const expected = await prepareInput(png, model, DEFAULT_IMAGE_LIMITS);
    expect(await readExample({ b64: png.toString('base64') }, model, DEFAULT_IMAGE_LIMITS, 'x')).toEqual(expected);
    expect(await readExample({ image: { b64: png.toString('base64') } }, model, DEFAULT_IMAGE_LIMITS, 'x')).toEqual(expected);
  });

  it.each([
    ['another input name', { pixels: grid(0) }, /x: expected .*got an object with keys \["pixels"\]/],
    ['a name inside a name', { image: { image: grid(0) } }, /x\.image: expected a nested list of numbers or \{"b64": \.\.\.\}; got/],
    ['b64 beside other keys', { b64: 'AAAA', note: 1 }, /must be \{"b64": "<base64 string>"\} and nothing else/],
    ['b64 that is not a string', { b64: 7 }, /must be \{"b64"/],
  ])('refuses %s with a 400', async (_what, value, message) => {
    await expect(readExample(value, model, DEFAULT_IMAGE_LIMITS, 'x')).rejects.toThrow(message);
  });

  it('names the failing example of a batch', async () => {
    await expect(readExamples([grid(0), grid(0).slice(1)], model, DEFAULT_IMAGE_LIMITS, 'instances')).rejects.toThrow(/^instances\[1\]: wrong shape/);
  });
});
