import path from 'node:path';
import { readFileSync } from 'node:fs';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

const service = useTestService();

/** Expected ImageNet classes per photo (test/fixtures/SOURCES.md): top-1 where the small model gets it. */
const PHOTOS: { file: string; top1?: string; inTop5: string[] }[] = [
  { file: 'dog.jpg', top1: 'beagle', inTop5: ['beagle'] },
  { file: 'vulture.jpg', top1: 'vulture', inTop5: ['vulture'] },
  { file: 'car.jpg', top1: 'sports car', inTop5: ['sports car'] },
  { file: 'dog2.jpg', inTop5: ['labrador retriever', 'golden retriever'] },
  { file: 'kitten.jpg', inTop5: ['tabby', 'tiger cat', 'egyptian cat'] },
  { file: 'croco.jpg', inTop5: ['african crocodile'] },
];

describe('GET / (Flask + Gunicorn health check)', () => {
  it('answers as the tutorial did', async () => {
    const res = await service.request.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ outcome: 'endpoint working successfully' });
  });
});

describe('POST /predict (Keras REST API)', () => {
  it.each(PHOTOS)('$file: success, five labels best first, the expected class', async ({ file, top1, inTop5 }) => {
    const res = await service.request.post('/predict').attach('image', fixture('photos', file), file);
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const predictions: { label: string; probability: number }[] = res.body.predictions;
    expect(predictions).toHaveLength(5);
    const probabilities = predictions.map((p) => p.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    if (top1) expect(predictions[0]!.label).toBe(top1);
    for (const label of inTop5) expect(predictions.map((p) => p.label)).toContain(label);
  });

  it('a grayscale image reaches the RGB model (gray repeated in R, G, B)', async () => {
    const res = await service.request.post('/predict').attach('image', fixture('mnist', '3.png'), '3.png');
    expect(res.status).toBe(200);
    expect(res.body.predictions).toHaveLength(5);
  });

  it('errors are problem+json that also say success: false', async () => {
    const missing = await service.request.post('/predict').field('note', 'no file');
    expect(expectProblem(missing, 400).success).toBe(false);
    const wrongField = await service.request.post('/predict').attach('file', fixture('photos', 'dog.jpg'), 'dog.jpg');
    expect(expectProblem(wrongField, 400).success).toBe(false);
    const notImage = await service.request.post('/predict').attach('image', Buffer.from('hello, not an image'), 'x.jpg');
    expect(expectProblem(notImage, 415).success).toBe(false);
  });
});

describe('POST /inference (Flask + Gunicorn)', () => {
  it('answers {label: probability} for the five best labels, best first', async () => {
    const res = await service.request.post('/inference').attach('image', fixture('photos', 'dog.jpg'), 'dog.jpg');
    expect(res.status).toBe(200);
    const entries = Object.entries(res.body as Record<string, number>);
    expect(entries).toHaveLength(5);
    expect(entries[0]![0]).toBe('beagle');
    expect(entries.map(([, p]) => p)).toEqual(entries.map(([, p]) => p).sort((a, b) => b - a));
  });

  it('has no success member in its errors (its tutorial had none)', async () => {
    const res = await service.request.post('/inference').field('image', 'text, not a file');
    expect(expectProblem(res, 400)).not.toHaveProperty('success');
  });
});

describe('POST /scorefile/ (FastAPI multi-label)', () => {
  it.each(['2-4-7.png', '0-5.png', '3-5-inverted.png'])('%s: a score for every label; the digits drawn score above 0.5', async (file) => {
    const res = await service.request.post('/scorefile/').attach('file', fixture('multilabel', file), file);
    expect(res.status).toBe(200);
    const scores = res.body as Record<string, number>;
    expect(Object.keys(scores)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const present = Object.keys(scores).filter((label) => scores[label]! >= 0.5);
    expect(present).toEqual(file.replace('-inverted', '').replace('.png', '').split('-'));
  });

  it('refuses a text value in the file field with problem+json', async () => {
    const res = await service.request.post('/scorefile/').field('file', 'text');
    expect(expectProblem(res, 400)).not.toHaveProperty('success');
  });
});

describe('POST /models/{name}/classify with a multi-label model', () => {
  it('ranks every label, each saying whether it reaches the threshold', async () => {
    const res = await service.request.post('/models/mnist-multilabel/classify').attach('file', fixture('multilabel', '1-8.png'), '1-8.png');
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('sigmoid');
    expect(res.body.predictions).toHaveLength(10);
    // `positive` is the model's own per-label threshold (metadata.json output.threshold) applied to the score.
    const { output, labels } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'model-store', 'mnist-multilabel', '1', 'metadata.json'), 'utf8')) as {
      output: { threshold: number[] };
      labels: string[];
    };
    for (const p of res.body.predictions as { label: string; score: number; positive: boolean }[]) {
      expect(p.positive).toBe(p.score >= output.threshold[labels.indexOf(p.label)]!);
    }
    // The digits drawn are found (the model's mistakes on the fixtures are counted in multilabel-model.test.ts).
    const positive = res.body.predictions.filter((p: { positive: boolean }) => p.positive).map((p: { label: string }) => p.label);
    expect(positive).toEqual(expect.arrayContaining(['1', '8']));
  });
});

describe('POST /models/{name}/classify with ImageNet', () => {
  it('answers the top-5 of MobileNet with kind softmax', async () => {
    const res = await service.request.post('/models/imagenet/classify').attach('file', fixture('photos', 'vulture.jpg'), 'vulture.jpg');
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('softmax');
    expect(res.body.predictions).toHaveLength(5);
    expect(res.body.predictions[0].label).toBe('vulture');
  });
});

describe('a seed route whose model is not in the store', () => {
  const missing = useTestService({ routeModels: { predict: 'resnet50', inference: 'resnet50', scorefile: 'scenes' } });

  it('answers 503 naming the model and the setting; the server runs and other routes answer', async () => {
    const predict = await missing.request.post('/predict').attach('image', fixture('photos', 'dog.jpg'), 'dog.jpg');
    const body = expectProblem(predict, 503);
    expect(body.detail).toBe("POST /predict needs model 'resnet50' (PREDICT_MODEL), which is not loaded. Add a resnet50/<version>/ folder to the model store (MODEL_STORE) or set PREDICT_MODEL to a loaded model.");
    expect(body.success).toBe(false);
    const scorefile = await missing.request.post('/scorefile/').attach('file', fixture('photos', 'dog.jpg'), 'dog.jpg');
    expect(expectProblem(scorefile, 503).detail).toMatch(/'scenes' \(SCOREFILE_MODEL\)/);
    expect((await missing.request.get('/')).status).toBe(200);
    expect((await missing.request.post('/models/imagenet/classify').attach('file', fixture('photos', 'dog.jpg'), 'dog.jpg')).status).toBe(200);
  });
});
