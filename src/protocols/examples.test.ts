import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelMetadata } from '../model-store/metadata';
import { readExample, readExamples } from './examples';

const model: Pick<ModelMetadata, 'input'> = {
  input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' },
};
const png = readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'mnist', '7.png'));
const grid = (v: number) => Array.from({ length: 28 }, () => Array<number>(28).fill(v));

describe('readExample', () => {
  it('reads a nested list, bare or named, as a tensor input', () => {
    expect(readExample(grid(0.5), model, 'x')).toEqual({ tensor: new Float32Array(784).fill(0.5) });
    expect(readExample({ image: grid(0.5) }, model, 'x')).toEqual({ tensor: expect.any(Float32Array) });
  });

  it("reads {b64} as the image bytes, bare or named (the model's preprocessing runs where the model runs)", () => {
    expect(readExample({ b64: png.toString('base64') }, model, 'x')).toEqual({ image: png });
    expect(readExample({ image: { b64: png.toString('base64') } }, model, 'x')).toEqual({ image: png });
  });

  it.each([
    ['another input name', { pixels: grid(0) }, /x: expected .*got an object with keys \["pixels"\]/],
    ['a name inside a name', { image: { image: grid(0) } }, /x\.image: expected a nested list of numbers or \{"b64": \.\.\.\}; got/],
    ['b64 beside other keys', { b64: 'AAAA', note: 1 }, /must be \{"b64": "<base64 string>"\} and nothing else/],
    ['b64 that is not a string', { b64: 7 }, /must be \{"b64"/],
  ])('refuses %s with a 400', (_what, value, message) => {
    expect(() => readExample(value, model, 'x')).toThrow(message);
  });

  it('names the failing example of a batch', () => {
    expect(() => readExamples([grid(0), grid(0).slice(1)], model, 'instances')).toThrow(/^instances\[1\]: wrong shape/);
  });
});
