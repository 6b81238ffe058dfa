import { inferOutputs, type InferRequest, readInferInputs, requestedOutputs } from './infer';

const model = { input: { name: 'image', shape: [2, 2, 1], dtype: 'float32' as const }, output: { name: 'probs', kind: 'softmax' as const }, labels: ['a', 'b', 'c'] };
const request = (input: Partial<InferRequest['inputs'][number]>, rest: Partial<InferRequest> = {}): InferRequest => ({
  inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8], ...input }],
  ...rest,
});

describe('readInferInputs', () => {
  it('splits flat or nested data into examples', () => {
    const flat = readInferInputs(request({}), model, 10);
    const nested = readInferInputs(request({ shape: [2, 2, 2, 1], data: [[[[1], [2]], [[3], [4]]], [[[5], [6]], [[7], [8]]]] }), model, 10);
    expect(flat.map((r) => Array.from(r))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(nested).toEqual(flat);
  });

  it.each([
    ['another datatype', { datatype: 'INT32' }, /datatype INT32 is not supported; 'image' is FP32/],
    ['another input name', { name: 'pixels' }, /unknown input; this model's input is 'image'/],
    ['a wrong shape', { shape: [2, 3, 2] }, /expected \[2, 2, 1\] or \[2, 2\] per example, got \[3, 2\]/],
    ['too little data', { data: [1, 2, 3] }, /needs 8 values; data holds 3/],
    ['data nested otherwise', { data: [[1, 2, 3, 4], [5, 6, 7, 8]] }, /nested as \[2, 4\] but shape says \[2, 2, 2\]/],
    ['a string value', { data: [1, 2, 3, 4, 5, 6, 7, 'NaN'] }, /\[7\]: expected a finite number/],
  ])('refuses %s with a 400', (_what, input, message) => {
    expect(() => readInferInputs(request(input), model, 10)).toThrow(message);
  });

  it('refuses a batch over the limit with a 413, before reading the data', () => {
    expect(() => readInferInputs(request({ shape: [11, 2, 2], data: [] }), model, 10)).toThrow(expect.objectContaining({ status: 413 }));
  });
});

describe('outputs', () => {
  const rows = [Float32Array.of(0.25, 0.5, 0.25)];

  it('answers FP32 scores by default, classification strings when asked', () => {
    expect(inferOutputs(rows, requestedOutputs(request({}), model), model)).toEqual([{ name: 'probs', datatype: 'FP32', shape: [1, 3], data: [0.25, 0.5, 0.25] }]);
    const asked = requestedOutputs(request({}, { outputs: [{ name: 'probs', parameters: { classification: 2 } }] }), model);
    expect(inferOutputs(rows, asked, model)).toEqual([{ name: 'probs', datatype: 'BYTES', shape: [1, 2], data: ['0.5:1:b', '0.25:0:a'] }]);
  });

  it('refuses unknown outputs and a classification beyond the labels', () => {
    expect(() => requestedOutputs(request({}, { outputs: [{ name: 'logits' }] }), model)).toThrow(/unknown output 'logits'/);
    expect(() => requestedOutputs(request({}, { outputs: [{ name: 'probs', parameters: { classification: 4 } }] }), model)).toThrow(/from 1 to 3/);
  });
});
