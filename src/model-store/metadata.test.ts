import { labelThresholds, type ModelMetadata, outputUnits, parseMetadata } from './metadata';

const base: ModelMetadata = {
  input: { name: 'image', shape: [224, 224, 3], dtype: 'float32' },
  output: { name: 'probs', kind: 'softmax' },
  labels: ['a', 'b', 'c'],
  preprocessing: { recipe: 'resize', resize: 'center-crop', scale: 'caffe', invert: 'never' },
};
const parse = (over: object) => parseMetadata({ ...base, ...over }, 'm/1/metadata.json');

describe('metadata.json', () => {
  it('accepts each output kind and scale the serving code implements', () => {
    expect(parse({}).output.kind).toBe('softmax');
    expect(parse({ output: { name: 's', kind: 'sigmoid', threshold: [0.5, 0.3, 0.9] } }).output.threshold).toEqual([0.5, 0.3, 0.9]);
    expect(parse({ output: { name: 'p', kind: 'binary-sigmoid' }, labels: ['cat', 'dog'] }).labels).toEqual(['cat', 'dog']);
    for (const scale of ['unit', 'symmetric', 'raw', 'caffe']) {
      expect(parse({ preprocessing: { ...base.preprocessing, scale } }).preprocessing).toMatchObject({ scale });
    }
  });

  it('refuses unknown kinds and scales, naming file and field', () => {
    expect(() => parse({ output: { name: 'x', kind: 'relu' } })).toThrow(/m\/1\/metadata\.json: \/output\/kind must be one of "softmax", "sigmoid", "binary-sigmoid"/);
    expect(() => parse({ preprocessing: { ...base.preprocessing, scale: 'torch' } })).toThrow(/metadata\.json/);
  });

  it('refuses fields that disagree with each other', () => {
    expect(() => parse({ output: { name: 'p', kind: 'binary-sigmoid' } })).toThrow(/binary-sigmoid needs two/);
    expect(() => parse({ output: { name: 's', kind: 'sigmoid', threshold: [0.5] } })).toThrow(/threshold has 1 entries for 3 labels/);
    expect(() => parse({ output: { name: 's', kind: 'softmax', threshold: 0.5 } })).toThrow(/threshold applies to output.kind sigmoid only/);
    expect(() => parse({ input: { name: 'image', shape: [28, 28, 1], dtype: 'float32' } })).toThrow(/caffe needs 3 channels/);
    expect(() => parse({ input: { name: 'image', shape: [32, 32, 4], dtype: 'float32' } })).toThrow(/\[height, width, 1 or 3\]/);
    expect(() => parse({ preprocessing: { recipe: 'mnist-digit' } })).toThrow(/mnist-digit recipe makes \[28, 28, 1\]/);
  });

  it('derives output units and per-label thresholds', () => {
    expect(outputUnits(base)).toBe(3);
    expect(outputUnits({ output: { name: 'p', kind: 'binary-sigmoid' }, labels: ['cat', 'dog'] })).toBe(1);
    expect(labelThresholds({ output: { name: 's', kind: 'sigmoid' }, labels: ['a', 'b'] })).toEqual([0.5, 0.5]);
    expect(labelThresholds({ output: { name: 's', kind: 'sigmoid', threshold: 0.7 }, labels: ['a', 'b'] })).toEqual([0.7, 0.7]);
  });
});
