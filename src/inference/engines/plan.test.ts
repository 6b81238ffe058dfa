import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelFiles } from '../../model-store/files';
import { DEFAULT_MODEL_STORE } from '../../paths';
import { maxAbsDiff, planVersion, probeBatch } from './plan';

beforeAll(() => tf.setBackend('cpu'));
const mnist = path.join(DEFAULT_MODEL_STORE, 'mnist', '1');

describe('planVersion: which engine runs a TF.js version', () => {
  it('ONNX when the converted graph matches TF.js on the probe batch; the TF.js model is freed', async () => {
    const { plan, tfjs } = await planVersion(await readModelFiles(mnist), mnist);
    expect(plan).toMatchObject({ name: 'onnx', reason: expect.stringMatching(/matches TF.js within \d\.\de-\d+ on the probe batch/) });
    expect(tfjs).toBeUndefined();
  });

  it('TF.js, with the measured difference, when the graph misses the tolerance', async () => {
    // A tolerance below any real difference stands in for a converter bug.
    const { plan, tfjs } = await planVersion(await readModelFiles(mnist), mnist, undefined, -1);
    expect(plan).toEqual({ name: 'tfjs', reason: expect.stringMatching(/^the converted ONNX graph differs from TF.js by \d\.\d\de[-+]\d+ on the probe batch \(more than -1\)$/) });
    expect(tfjs).toBeDefined();
    tfjs!.dispose();
  });

  it('config.yaml engine: tfjs skips the conversion; engine: onnx on an ONNX-less model fails the load', async () => {
    const forced = await planVersion(await readModelFiles(mnist), mnist, 'tfjs');
    expect(forced.plan).toEqual({ name: 'tfjs', reason: 'engine: tfjs in config.yaml' });
    forced.tfjs!.dispose();
    const model = tf.sequential({ layers: [tf.layers.reshape({ inputShape: [4, 4, 1], targetShape: [16, 1] }), tf.layers.conv1d({ filters: 2, kernelSize: 16 }), tf.layers.flatten()] });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const metadata = { input: { name: 'x', shape: [4, 4, 1], dtype: 'float32' as const }, output: { name: 'p', kind: 'softmax' as const }, labels: ['a', 'b'], preprocessing: { recipe: 'resize' as const, resize: 'stretch' as const, scale: 'unit' as const, invert: 'never' as const } };
    const files = { format: 'tfjs-layers' as const, metadata, artifacts: artifacts! };
    const fallback = await planVersion(files, '/store/conv1d/1');
    expect(fallback.plan).toEqual({ name: 'tfjs', reason: expect.stringMatching(/^not converted to ONNX: layer conv1d\S* .*Conv1D layers are not supported/) });
    fallback.tfjs!.dispose();
    await expect(planVersion(files, '/store/conv1d/1', 'onnx')).rejects.toThrow(/^\/store\/conv1d\/1\/model.json: config.yaml says engine: onnx, but not converted to ONNX/);
  });

  it('the probe batch is fixed (same values every load) and maxAbsDiff treats NaN as a miss', () => {
    expect(probeBatch([2, 2, 1])).toEqual(probeBatch([2, 2, 1]));
    expect(probeBatch([2, 2, 1]).subarray(0, 4)).toEqual(new Float32Array(4));
    expect(maxAbsDiff([Float32Array.of(1, 2)], [Float32Array.of(1, 2.5)])).toBe(0.5);
    expect(maxAbsDiff([Float32Array.of(NaN)], [Float32Array.of(1)])).toBe(Infinity);
    expect(maxAbsDiff([Float32Array.of(1)], [Float32Array.of(1, 2)])).toBe(Infinity);
  });
});
