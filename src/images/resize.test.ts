import type { RgbaImage } from './decode';
import { resizeInput, type ResizePreprocessing } from './resize';

/** A width x height image from gray levels (0..255), opaque. */
function gray(width: number, height: number, levels: number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  levels.forEach((v, i) => data.set([v, v, v, 255], i * 4));
  return { width, height, data };
}

// 4 wide x 2 high; as 0..1: row 0 = .0 .2 .4 .6, row 1 = .8 1 .0 .2
const TINY = gray(4, 2, [0, 51, 102, 153, 204, 255, 0, 51]);
const recipe = (over: Partial<ResizePreprocessing>): ResizePreprocessing => ({ recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'never', ...over });
const close = (actual: Float32Array, expected: number[], digits = 5) => {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, digits));
};

describe('the resize recipe, against values worked out by hand', () => {
  it('stretch averages the area each output pixel covers', () => {
    // 4x2 -> 2x1: each output pixel is the mean of a 2x2 block.
    close(resizeInput(TINY, [1, 2, 1], recipe({})), [(0 + 0.2 + 0.8 + 1) / 4, (0.4 + 0.6 + 0 + 0.2) / 4]);
  });

  it('center-crop fits the short side and cuts the long one', () => {
    // step 1, origin x = 1: columns 1 and 2.
    close(resizeInput(TINY, [2, 2, 1], recipe({ resize: 'center-crop' })), [0.2, 0.4, 1, 0]);
  });

  it('letterbox fits the long side and pads with black', () => {
    // step 2, origin y = -1: each output row is half padding, half one source row.
    close(resizeInput(TINY, [2, 2, 1], recipe({ resize: 'letterbox' })), [0.2 / 4, 1.0 / 4, 1.8 / 4, 0.2 / 4]);
  });

  it('symmetric scaling maps 0..1 to -1..1', () => {
    close(resizeInput(TINY, [1, 2, 1], recipe({ scale: 'symmetric' })), [0.5 * 2 - 1, 0.3 * 2 - 1]);
  });

  it('raw scaling keeps 0..255', () => {
    close(resizeInput(TINY, [1, 2, 1], recipe({ scale: 'raw' })), [0.5 * 255, 0.3 * 255]);
  });

  it('caffe (Keras ResNet50) reorders to BGR and subtracts the ImageNet BGR means, unscaled', () => {
    // One pixel R=200 G=100 B=50 -> [B - 103.939, G - 116.779, R - 123.68].
    const pixel = { width: 1, height: 1, data: new Uint8Array([200, 100, 50, 255]) };
    close(resizeInput(pixel, [1, 1, 3], recipe({ scale: 'caffe' })), [50 - 103.939, 100 - 116.779, 200 - 123.68]);
  });

  it('normalize (torchvision): (x - mean) / std per channel after the scaling, preset or own values', () => {
    const pixel = { width: 1, height: 1, data: new Uint8Array([255, 102, 0, 255]) };
    close(resizeInput(pixel, [1, 1, 3], recipe({ normalize: 'imagenet' })), [(1 - 0.485) / 0.229, (0.4 - 0.456) / 0.224, (0 - 0.406) / 0.225]);
    close(resizeInput(pixel, [1, 1, 3], recipe({ scale: 'symmetric', normalize: { mean: [0.5, 0, 0], std: [2, 1, 4] } })), [(1 - 0.5) / 2, -0.2, -1 / 4]);
  });

  it('a grayscale image fed to an RGB model repeats its gray in R, G and B', () => {
    close(resizeInput(TINY, [1, 2, 3], recipe({ scale: 'symmetric' })), [0, 0, 0, -0.4, -0.4, -0.4]);
  });

  it('three channels keep colour, interleaved HWC', () => {
    const red = { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 255]) };
    close(resizeInput(red, [1, 1, 3], recipe({})), [1, 0, 0]);
  });

  it('flattens transparency onto white before anything else', () => {
    const clear = { width: 1, height: 1, data: new Uint8Array([0, 0, 0, 0]) };
    close(resizeInput(clear, [1, 1, 1], recipe({})), [1]);
  });

  it('an image already at the model size goes straight to the tensor: colour, order, transparency', () => {
    // 2x1: an opaque orange pixel and a half-transparent blue one (flattened onto white).
    const image = { width: 2, height: 1, data: new Uint8Array([255, 102, 0, 255, 0, 0, 255, 128]) };
    const half = (v: number) => (128 * v + 127 * 255) / (255 * 255);
    close(resizeInput(image, [1, 2, 3], recipe({})), [1, 0.4, 0, half(0), half(0), half(255)]);
    close(resizeInput(image, [1, 2, 3], recipe({ scale: 'caffe' })), [0 - 103.939, 102 - 116.779, 255 - 123.68, half(255) * 255 - 103.939, half(0) * 255 - 116.779, half(0) * 255 - 123.68], 4); // float32 near 100: 4 decimals
    // The same two pixels, each doubled to 4x1 and stretched back to 2x1, go through the sampling
    // path instead: both paths give the same tensor.
    const wide = { width: 4, height: 1, data: new Uint8Array([255, 102, 0, 255, 255, 102, 0, 255, 0, 0, 255, 128, 0, 0, 255, 128]) };
    close(resizeInput(wide, [1, 2, 3], recipe({ scale: 'symmetric' })), Array.from(resizeInput(image, [1, 2, 3], recipe({ scale: 'symmetric' }))));
  });

  it('invert: auto turns a light background dark, and leaves a dark one alone', () => {
    const darkOnLight = gray(3, 3, [255, 255, 255, 255, 0, 255, 255, 255, 255]);
    close(resizeInput(darkOnLight, [3, 3, 1], recipe({ invert: 'auto' })), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    const lightOnDark = gray(3, 3, [0, 0, 0, 0, 255, 0, 0, 0, 0]);
    close(resizeInput(lightOnDark, [3, 3, 1], recipe({ invert: 'auto' })), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('refuses an input shape it cannot fill', () => {
    expect(() => resizeInput(TINY, [2, 2, 4], recipe({}))).toThrow(/\[height, width, 1 or 3\]/);
  });
});
