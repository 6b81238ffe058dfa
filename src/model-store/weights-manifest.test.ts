import path from 'node:path';
import { DEFAULT_MODEL_STORE } from '../paths';
import { checkModelFolder, weightGroups } from './weights-manifest';

describe('weightGroups', () => {
  it('sums elements x bytes per element per group, counting quantized weights at their stored dtype', () => {
    const modelJson = {
      weightsManifest: [
        { paths: ['./a.bin'], weights: [{ name: 'k', shape: [3, 4], dtype: 'float32' }, { name: 'b', shape: [4], dtype: 'int32' }] },
        { paths: ['b1.bin', 'b2.bin'], weights: [{ name: 'q', shape: [10, 10], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } }] },
      ],
    };
    expect(weightGroups(modelJson, 'model.json')).toEqual([
      { paths: ['a.bin'], bytes: 64 },
      { paths: ['b1.bin', 'b2.bin'], bytes: 100 },
    ]);
    expect(weightGroups({ modelTopology: {} }, 'model.json')).toEqual([]);
  });

  it.each([
    [{ paths: ['../x.bin'], weights: [] }, /weightsManifest\[0\]\.paths: "\.\.\/x\.bin" is not a file name in the model's folder/],
    [{ paths: ['sub/x.bin'], weights: [] }, /"sub\/x\.bin" is not a file name/],
    [{ paths: ['x.bin'], weights: [{ name: 's', shape: [2], dtype: 'string' }] }, /weights\[0\] \(s\): dtype string has no fixed size/],
    [{ paths: ['x.bin'], weights: [{ name: 'n', shape: [-1], dtype: 'float32' }] }, /weights\[0\] \(n\): shape has -1/],
    [{ weights: [] }, /weightsManifest\[0\] needs paths and weights lists/],
  ])('refuses %j, naming the field', (group, message) => {
    expect(() => weightGroups({ weightsManifest: [group] }, 'http://h/model.json')).toThrow(message);
  });
});

describe('checkModelFolder', () => {
  it('accepts the shipped models', async () => {
    for (const name of ['mnist', 'fashion']) await expect(checkModelFolder(path.join(DEFAULT_MODEL_STORE, name, '1'), name)).resolves.toBeUndefined();
  });
});
