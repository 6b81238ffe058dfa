import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

const service = useTestService();

const classify = (url: string, file = fixture('mnist', '7.png')) => service.request.post(url).attach('file', file, 'image.png');

describe('POST /models/{name}/classify', () => {
  it('answers the 5 best labels of mnist, best first, with the model version', async () => {
    const res = await classify('/models/mnist/classify');
    expect(res.status).toBe(200);
    expect(res.body.model).toEqual({ name: 'mnist', version: 1 });
    const predictions: { label: string; score: number }[] = res.body.predictions;
    expect(predictions).toHaveLength(5);
    expect(predictions[0]!.label).toBe('7');
    expect(predictions[0]!.score).toBeGreaterThan(0.9);
    expect(predictions.map((p) => p.score)).toEqual([...predictions.map((p) => p.score)].sort((a, b) => b - a));
  });

  it('honours top_k from 1 to the number of labels, and version', async () => {
    expect((await classify('/models/mnist/classify?top_k=1')).body.predictions).toEqual([{ label: '7', score: expect.any(Number) }]);
    const all = await classify('/models/mnist/classify?top_k=10&version=1');
    expect(all.body.predictions.map((p: { label: string }) => p.label).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(all.body.predictions.reduce((a: number, p: { score: number }) => a + p.score, 0)).toBeCloseTo(1, 4);
  });

  it('classifies with every model in the store, each with its own labels and preprocessing', async () => {
    const models: { name: string; version: number; labels: string[] }[] = (await service.request.get('/models')).body.models;
    expect(models.map((m) => m.name)).toContain('mnist');
    for (const { name, version, labels } of models) {
      const res = await classify(`/models/${name}/classify?top_k=3`, fixture('mnist', '2.png'));
      expect({ name, status: res.status, model: res.body.model }).toEqual({ name, status: 200, model: { name, version: expect.any(Number) } });
      expect(res.body.model.version).toBeGreaterThanOrEqual(version);
      for (const { label } of res.body.predictions) expect(labels).toContain(label);
    }
  });

  it('every shipped model serves on ONNX Runtime, converted from TF.js at load', async () => {
    const models: { name: string; engine: { name: string; platform: string; reason: string } }[] = (await service.request.get('/models')).body.models;
    expect(models.map((m) => m.name).sort()).toEqual(['fashion', 'imagenet', 'mnist', 'mnist-multilabel']);
    for (const { name, engine } of models) {
      expect({ name, engine }).toEqual({ name, engine: { name: 'onnx', platform: 'onnxruntime_onnx', reason: expect.stringMatching(/^converted from TF.js layers at load; matches TF.js within/) } });
    }
  });

  it('unknown model or version: 404', async () => {
    expect(expectProblem(await classify('/models/letters/classify'), 404).detail).toMatch(/No model named 'letters'/);
    expect(expectProblem(await classify('/models/mnist/classify?version=9'), 404).detail).toMatch(/no available version 9/);
  });

  it('top_k out of range, no file, not an image: 400, 400, 415', async () => {
    expect(expectProblem(await classify('/models/mnist/classify?top_k=11'), 400).detail).toMatch(/top_k is 11 but model 'mnist' has 10 labels/);
    expectProblem(await classify('/models/mnist/classify?top_k=0'), 400);
    expectProblem(await service.request.post('/models/mnist/classify').field('note', 'no file'), 400);
    expectProblem(await classify('/models/mnist/classify', Buffer.from('not an image at all')), 415);
  });
});
