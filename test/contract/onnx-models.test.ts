/**
 * ONNX in the store: PyTorch's own exports served by dropping model.onnx + metadata.json into a
 * version folder, the shipped TF.js models served on ONNX Runtime after conversion, TF.js kept
 * where conversion cannot follow, and bad ONNX versions failing alone with the file and reason.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_IMAGE_LIMITS, decodeToGray } from '../../src/images';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { tinyOnnx } from '../support/onnx-files';
import { FIXTURES, fixture, startTestService, type TestService } from '../support/service';
import { onnx } from 'onnx-proto';

const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const ONNX = path.join(FIXTURES, 'onnx');
const argmax = (row: number[]): number => row.indexOf(Math.max(...row));
const labels = DIGITS.map(String);

async function gray(digit: number): Promise<number[]> {
  return Array.from((await decodeToGray(fixture('mnist', `${digit}.png`), DEFAULT_IMAGE_LIMITS)).data);
}

function version(store: string, name: string, files: Record<string, Uint8Array | string | object>, config?: string): void {
  const dir = path.join(store, name, '1');
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, file), typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  if (config) writeFileSync(path.join(store, name, 'config.yaml'), config);
}

const pytorchMnistMeta = {
  input: { name: 'input', shape: [28, 28, 1], dtype: 'float32' },
  output: { name: 'probs', kind: 'softmax' },
  labels,
  // PyTorch's expected rows are for gray/255 of the 28x28 PNGs: stretch to 28x28 is the identity.
  preprocessing: { recipe: 'resize', resize: 'stretch', scale: 'unit', invert: 'never' },
};

/** A TF.js model with a layer the converter does not know (Conv1D): it must serve on TF.js. */
async function conv1dModel(): Promise<{ json: object; weights: Uint8Array }> {
  const model = tf.sequential({
    layers: [
      tf.layers.reshape({ inputShape: [4, 4, 1], targetShape: [16, 1] }),
      tf.layers.conv1d({ filters: 10, kernelSize: 16 }),
      tf.layers.flatten(),
      tf.layers.activation({ activation: 'softmax' }),
    ],
  });
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  return {
    json: { modelTopology: saved!.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: saved!.weightSpecs }] },
    weights: new Uint8Array(saved!.weightData as ArrayBuffer),
  };
}

let service: TestService;
beforeAll(async () => {
  const store = mkdtempSync(path.join(os.tmpdir(), 'specserve-onnx-store-'));
  cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist'), path.join(store, 'mnist'), { recursive: true });
  cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist'), path.join(store, 'mnist-tfjs'), { recursive: true });
  writeFileSync(path.join(store, 'mnist-tfjs', 'config.yaml'), 'engine: tfjs\n');
  const pytorchMnist = readFileSync(path.join(ONNX, 'mnist-cnn-pytorch.onnx'));
  version(store, 'mnist-pytorch', { 'model.onnx': pytorchMnist, 'metadata.json': pytorchMnistMeta });
  version(store, 'mobilenet-pytorch', {
    'model.onnx': readFileSync(path.join(ONNX, 'mobilenetv2-0.35-torchvision.onnx')),
    'metadata.json': {
      input: { name: 'pixel_values', shape: [96, 96, 3], dtype: 'float32' },
      output: { name: 'logits', kind: 'logits' },
      labels: DIGITS.map((d) => `class-${d}`),
      preprocessing: { recipe: 'resize', resize: 'center-crop', scale: 'unit', invert: 'never', normalize: 'imagenet' },
    },
  });
  const conv1d = await conv1dModel();
  version(store, 'conv1d', {
    'model.json': conv1d.json,
    'weights.bin': conv1d.weights,
    'metadata.json': { input: { name: 'x', shape: [4, 4, 1], dtype: 'float32' }, output: { name: 'p', kind: 'softmax' }, labels, preprocessing: pytorchMnistMeta.preprocessing },
  });
  const tinyMeta = { ...pytorchMnistMeta, input: { name: 'x', shape: [2, 2, 1], dtype: 'float32' }, labels: ['a'] };
  version(store, 'bad-truncated', { 'model.onnx': pytorchMnist.subarray(0, 100_000), 'metadata.json': pytorchMnistMeta });
  version(store, 'bad-not-onnx', { 'model.onnx': 'this is not a protobuf', 'metadata.json': pytorchMnistMeta });
  version(store, 'bad-int64', { 'model.onnx': tinyOnnx({ inputType: onnx.TensorProto.DataType.INT64 }), 'metadata.json': tinyMeta });
  version(store, 'bad-external', { 'model.onnx': tinyOnnx({ externalLocation: '../../etc/passwd' }), 'metadata.json': tinyMeta });
  version(store, 'bad-custom-op', { 'model.onnx': tinyOnnx({ domain: 'com.example.magic' }), 'metadata.json': tinyMeta });
  version(store, 'bad-metadata', { 'model.onnx': pytorchMnist, 'metadata.json': { ...pytorchMnistMeta, input: { ...pytorchMnistMeta.input, shape: [32, 32, 1] } } });
  version(store, 'bad-input-name', { 'model.onnx': pytorchMnist, 'metadata.json': { ...pytorchMnistMeta, input: { ...pytorchMnistMeta.input, name: 'image' } } });
  service = await startTestService({ modelStore: store });
});
afterAll(() => service?.close());

describe('engines per version', () => {
  it('GET /models says which engine serves each version and why', async () => {
    const res = await service.request.get('/models');
    expect(res.status).toBe(200);
    const engines = Object.fromEntries(res.body.models.map((m: { name: string; engine: unknown }) => [m.name, m.engine]));
    expect(engines).toEqual({
      conv1d: { name: 'tfjs', platform: 'tensorflowjs', reason: expect.stringMatching(/^not converted to ONNX: layer conv1d\S* \(?.*Conv1D layers are not supported/) },
      mnist: { name: 'onnx', platform: 'onnxruntime_onnx', reason: expect.stringMatching(/^converted from TF.js layers at load; matches TF.js within/) },
      'mnist-tfjs': { name: 'tfjs', platform: 'tensorflowjs', reason: 'engine: tfjs in config.yaml' },
      'mnist-pytorch': { name: 'onnx', platform: 'onnxruntime_onnx', reason: expect.stringMatching(/^model.onnx from pytorch .*opset 13/) },
      'mobilenet-pytorch': { name: 'onnx', platform: 'onnxruntime_onnx', reason: expect.stringMatching(/^model.onnx/) },
    });
  });

  it('every digit gets the same class on ONNX (converted) and TF.js, each probability within 1e-4', async () => {
    for (const digit of DIGITS) {
      const image = fixture('mnist', `${digit}.png`);
      const [onnxRes, tfjsRes] = await Promise.all(['mnist', 'mnist-tfjs'].map((m) => service.request.post(`/models/${m}/classify?top_k=10`).attach('file', image, 'd.png')));
      const scores = (res: typeof onnxRes) => Object.fromEntries(res.body.predictions.map((p: { label: string; score: number }) => [p.label, p.score]));
      expect(onnxRes.body.predictions[0].label).toBe(String(digit));
      expect(tfjsRes.body.predictions[0].label).toBe(String(digit));
      const a = scores(onnxRes);
      const b = scores(tfjsRes);
      for (const label of labels) expect(Math.abs(a[label] - b[label])).toBeLessThanOrEqual(1e-4);
    }
  });

  it('v2 metadata reports the platform of the engine', async () => {
    expect((await service.request.get('/v2/models/mnist-pytorch')).body.platform).toBe('onnxruntime_onnx');
    expect((await service.request.get('/v2/models/mnist-tfjs')).body.platform).toBe('tensorflowjs');
    expect((await service.request.get('/v1/models/conv1d/metadata')).body.metadata.engine).toMatchObject({ name: 'tfjs', reason: expect.stringMatching(/Conv1D/) });
  });
});

describe("PyTorch's ONNX export, dropped in the store", () => {
  const expected: { outputs: Record<string, number[]> } = JSON.parse(readFileSync(path.join(ONNX, 'mnist-cnn-pytorch.expected.json'), 'utf8'));

  it('classifies the digits through /models/{name}/classify', async () => {
    const res = await service.request.post('/models/mnist-pytorch/classify').attach('file', fixture('mnist', '7.png'), '7.png');
    expect(res.status).toBe(200);
    expect(res.body.predictions[0].label).toBe('7');
  });

  it("/v1 :predict with nested lists answers PyTorch's own probabilities (within 1e-4)", async () => {
    const instances = await Promise.all(DIGITS.map(async (d) => {
      const values = await gray(d);
      return Array.from({ length: 28 }, (_, y) => values.slice(y * 28, y * 28 + 28).map((v) => [v]));
    }));
    const res = await service.request.post('/v1/models/mnist-pytorch:predict').send({ instances });
    expect(res.status).toBe(200);
    res.body.predictions.forEach((row: number[], d: number) => {
      expect(argmax(row)).toBe(d);
      row.forEach((p, j) => expect(Math.abs(p - expected.outputs[`${d}.png`]![j]!)).toBeLessThanOrEqual(1e-4));
    });
  });

  it('/v1 :predict with b64 images, and /v2 infer with flat data', async () => {
    const b64 = fixture('mnist', '3.png').toString('base64');
    const v1 = await service.request.post('/v1/models/mnist-pytorch:predict').send({ instances: [{ b64 }, { input: { b64 } }] });
    expect(v1.status).toBe(200);
    expect(v1.body.predictions.map(argmax)).toEqual([3, 3]);
    const data = [...(await gray(4)), ...(await gray(9))];
    const v2 = await service.request.post('/v2/models/mnist-pytorch/infer').send({ inputs: [{ name: 'input', shape: [2, 28, 28, 1], datatype: 'FP32', data }] });
    expect(v2.status).toBe(200);
    const scores: number[] = v2.body.outputs[0].data;
    expect([argmax(scores.slice(0, 10)), argmax(scores.slice(10))]).toEqual([4, 9]);
  });

  it('an NCHW logits model (torchvision MobileNetV2): raw logits on the tensor protocols, a softmax for ranking', async () => {
    const raw = readFileSync(path.join(ONNX, 'mobilenetv2-0.35-torchvision.input.f32'));
    const nchw = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)).subarray(0, 3 * 96 * 96);
    const hwc = Array.from({ length: 96 * 96 * 3 }, (_, i) => nchw[(i % 3) * 96 * 96 + Math.floor(i / 3)]!);
    const logits: number[][] = JSON.parse(readFileSync(path.join(ONNX, 'mobilenetv2-0.35-torchvision.expected.json'), 'utf8')).logits;
    const v2 = await service.request.post('/v2/models/mobilenet-pytorch/infer').send({ inputs: [{ name: 'pixel_values', shape: [1, 96, 96, 3], datatype: 'FP32', data: hwc }] });
    expect(v2.status).toBe(200);
    (v2.body.outputs[0].data as number[]).forEach((v, j) => expect(Math.abs(v - logits[0]![j]!)).toBeLessThanOrEqual(1e-4));
    const ranked = await service.request.post('/models/mobilenet-pytorch/classify?top_k=10').attach('file', fixture('mnist', '7.png'), '7.png');
    expect(ranked.status).toBe(200);
    expect(ranked.body.kind).toBe('logits');
    expect(ranked.body.predictions.reduce((a: number, p: { score: number }) => a + p.score, 0)).toBeCloseTo(1, 4);
  });

  it('explain prepares the image as classify does, normalisation included: the same top class and score', async () => {
    const photo = fixture('photos', 'dog.jpg');
    const ranked = await service.request.post('/models/mobilenet-pytorch/classify?top_k=1').attach('file', photo, 'dog.jpg');
    const explained = await service.request.post('/models/mobilenet-pytorch/explain?patch=32&stride=32').attach('file', photo, 'dog.jpg');
    expect(explained.status).toBe(200);
    expect(explained.body.class.label).toBe(ranked.body.predictions[0].label);
    expect(Math.abs(explained.body.class.score - ranked.body.predictions[0].score)).toBeLessThanOrEqual(1e-4);
  });
});

describe('bad ONNX versions fail alone, with the file and the reason', () => {
  const cases: [string, RegExp][] = [
    ['bad-truncated', /bad-truncated\/1\/model\.onnx: not an ONNX model/],
    ['bad-not-onnx', /bad-not-onnx\/1\/model\.onnx: not an ONNX model/],
    ['bad-int64', /model\.onnx: input x is int64; only float32 inputs are supported/],
    ['bad-external', /model\.onnx: tensor w points at external data outside its version folder \(location \.\.\/\.\.\/etc\/passwd\)/],
    ['bad-custom-op', /model\.onnx: node n0 uses the custom operator domain 'com\.example\.magic'/],
    ['bad-metadata', /bad-metadata\/1\/metadata\.json: input\.shape \[32,32,1\] does not match the graph's input/],
    ['bad-input-name', /metadata\.json: input\.name 'image' does not match the graph's input 'input'/],
  ];
  it.each(cases)('%s', async (name, reason) => {
    const res = await service.request.get(`/v1/models/${name}`);
    expect(res.status).toBe(200);
    expect(res.body.model_version_status).toEqual([{ version: '1', state: 'END', status: { error_code: 'UNKNOWN', error_message: expect.stringMatching(reason) } }]);
  });

  it('while every other model keeps serving', async () => {
    const names = (await service.request.get('/models')).body.models.map((m: { name: string }) => m.name);
    expect(names).toEqual(['conv1d', 'mnist', 'mnist-pytorch', 'mnist-tfjs', 'mobilenet-pytorch']);
  });
});
