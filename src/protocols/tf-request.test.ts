import { classifyBatch, predictBatch } from './tf-request';

describe('TF Serving request bodies', () => {
  it('reads row and columnar layouts, named or not', () => {
    expect(predictBatch({ instances: [1, 2] }, 'image')).toEqual({ layout: 'row', items: [1, 2], where: 'instances' });
    expect(predictBatch({ inputs: [1] }, 'image')).toEqual({ layout: 'columnar', items: [1], where: 'inputs' });
    expect(predictBatch({ inputs: { image: [1] }, signature_name: 'serving_default' }, 'image')).toEqual({
      layout: 'columnar',
      items: [1],
      where: 'inputs.image',
    });
  });

  it.each([
    [{}, /needs "instances".*or "inputs"/],
    [{ instances: [1], inputs: [1] }, /both/],
    [{ instances: [] }, /empty/],
    [{ instances: 3 }, /must be a list/],
    [{ inputs: { pixels: [1] } }, /names \["pixels"\]; this model has one input, 'image'/],
    [{ instances: [1], signature_name: 'classify_x' }, /signature key "classify_x" not found/],
  ])('refuses %j', (body, message) => {
    expect(() => predictBatch(body, 'image')).toThrow(message);
  });

  it('reads :classify examples or instances', () => {
    expect(classifyBatch({ examples: [{ image: 1 }] }).where).toBe('examples');
    expect(classifyBatch({ instances: [1] }).where).toBe('instances');
    expect(() => classifyBatch({ examples: [1], instances: [1] })).toThrow(/both/);
  });
});
