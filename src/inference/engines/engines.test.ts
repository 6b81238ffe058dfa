import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readLayersModelFiles } from '../../model-store/files';
import { DEFAULT_MODEL_STORE } from '../../paths';
import { engineContract } from './engine.contract';
import { loadOnnx } from './onnx';
import { convertLayersModel } from './onnx-convert/convert';
import { loadTfjs } from './tfjs';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx');
const mnistDir = path.join(DEFAULT_MODEL_STORE, 'mnist', '1');

beforeAll(() => tf.setBackend('cpu'));

engineContract('tfjs (model-store/mnist/1)', async () => {
  const { artifacts } = await readLayersModelFiles(mnistDir);
  return { model: await loadTfjs(artifacts, [28, 28, 1]), inputShape: [28, 28, 1], width: 10 };
});

engineContract('onnx (model-store/mnist/1 converted)', async () => {
  const { artifacts } = await readLayersModelFiles(mnistDir);
  const tfjs = await loadTfjs(artifacts, [28, 28, 1]);
  const converted = convertLayersModel(tfjs.model);
  tfjs.dispose();
  const graph = { model: converted.onnx, inputName: converted.inputName, outputName: converted.outputName, layout: 'NHWC' as const, fixedBatch: false };
  return { model: await loadOnnx(graph, [28, 28, 1], { threads: 1 }), inputShape: [28, 28, 1], width: 10 };
});

engineContract('onnx (PyTorch export, NCHW, logits)', async () => {
  const graph = { model: readFileSync(path.join(FIXTURES, 'mobilenetv2-0.35-torchvision.onnx')), inputName: 'pixel_values', outputName: 'logits', layout: 'NCHW' as const, fixedBatch: false };
  return { model: await loadOnnx(graph, [96, 96, 3], { threads: 1 }), inputShape: [96, 96, 3], width: 10 };
});

describe('onnx engine on PyTorch files', () => {
  it("reproduces PyTorch's logits for its NCHW input batch (given to the engine as HWC)", async () => {
    const raw = readFileSync(path.join(FIXTURES, 'mobilenetv2-0.35-torchvision.input.f32'));
    const nchw = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const expected: { logits: number[][] } = JSON.parse(readFileSync(path.join(FIXTURES, 'mobilenetv2-0.35-torchvision.expected.json'), 'utf8'));
    // The engine takes [n, H, W, C] (what images become) and reorders for an NCHW graph.
    const [c, h, w] = [3, 96, 96];
    const hwc = new Float32Array(nchw.length);
    for (let b = 0; b < 2; b++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) hwc[b * c * h * w + p * c + ch] = nchw[b * c * h * w + ch * h * w + p]!;
    const graph = { model: readFileSync(path.join(FIXTURES, 'mobilenetv2-0.35-torchvision.onnx')), inputName: 'pixel_values', outputName: 'logits', layout: 'NCHW' as const, fixedBatch: false };
    const model = await loadOnnx(graph, [h, w, c], { threads: 1 });
    const rows = await model.run(hwc, 2);
    rows.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected.logits[i]![j]!)).toBeLessThanOrEqual(1e-4)));
    // A graph with a batch fixed at 1 runs the same inputs one by one.
    const oneByOne = await loadOnnx({ ...graph, fixedBatch: true }, [h, w, c], { threads: 1 });
    expect((await oneByOne.run(hwc, 2)).map((r) => Array.from(r))).toEqual(rows.map((r) => Array.from(r)));
    model.dispose();
    oneByOne.dispose();
  });
});
