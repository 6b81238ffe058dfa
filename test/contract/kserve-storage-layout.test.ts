import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startService } from '../../src/bootstrap';
import { DEFAULT_IMAGE_LIMITS, decodeToGray } from '../../src/images';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { fixture, useTestService } from '../support/service';

/**
 * KServe's storage initializer copies an InferenceService's storageUri into /mnt/models: for a
 * URI that names one version, the model files sit directly in it. With MODEL_NAME (the
 * ClusterServingRuntime sets it to the InferenceService's name) that folder is served as one
 * model, on the same routes KServe's v2 clients call.
 */
const VERSION_FOLDER = path.join(DEFAULT_MODEL_STORE, 'mnist', '1');
const service = useTestService({ modelStore: VERSION_FOLDER, modelName: 'digits' });

const argmax = (row: number[]): number => row.indexOf(Math.max(...row));

describe('MODEL_STORE as KServe mounts a storageUri, served under MODEL_NAME', () => {
  it('serves the folder as version 1 of MODEL_NAME, ready, and nothing else', async () => {
    expect((await service.request.get('/v2/health/ready')).body).toEqual({ ready: true });
    expect((await service.request.get('/v2/models/digits/ready')).body).toEqual({ name: 'digits', ready: true });
    const meta = await service.request.get('/v2/models/digits');
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ name: 'digits', versions: ['1'], inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 28, 28, 1] }] });
    expect((await service.request.get('/v2/models/mnist')).status).toBe(404);
  });

  it('answers a v2 infer on the real digit', async () => {
    const data = Array.from((await decodeToGray(fixture('mnist', '7.png'), DEFAULT_IMAGE_LIMITS)).data);
    const res = await service.request.post('/v2/models/digits/infer').send({ inputs: [{ name: 'image', shape: [1, 28, 28, 1], datatype: 'FP32', data }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_name: 'digits', model_version: '1' });
    expect(argmax(res.body.outputs[0].data)).toBe(7);
  });

  it('a single-model folder without MODEL_NAME fails start-up saying to set it', async () => {
    const config = { ...loadConfig({}), modelStore: path.join(DEFAULT_MODEL_STORE, 'mnist'), pollSeconds: 0, workers: 1 };
    await expect(startService(config)).rejects.toThrow(/holds one model .*set MODEL_NAME/);
  });
});
