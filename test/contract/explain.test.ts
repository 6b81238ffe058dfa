import { readFileSync } from 'node:fs';
import path from 'node:path';
import { occlusionPlan, pixelSensitivity } from '../../src/explain/occlusion';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../../src/images';
import { parseMetadata } from '../../src/model-store/metadata';
import { solidImage } from '../support/images';
import { expectProblem } from '../support/problem';
import { fixture, useTestService } from '../support/service';

const service = useTestService();

const explain = (url: string, file = fixture('mnist', '7.png')) => service.request.post(url).attach('file', file, 'image.png');

describe('POST /models/{name}/explain', () => {
  it('explains a 7 as a 7, and the heatmap is highest on its strokes', async () => {
    const res = await explain('/models/mnist/explain');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const { model, class: explained, input, patch, stride, grid } = res.body as {
      model: unknown;
      class: { label: string; score: number };
      input: { height: number; width: number };
      patch: number;
      stride: number;
      grid: number[][];
    };
    expect(model).toEqual({ name: 'mnist', version: 1 });
    expect(explained.label).toBe('7');
    expect(explained.score).toBeGreaterThan(0.9);
    expect({ input, patch, stride }).toEqual({ input: { height: 28, width: 28 }, patch: 4, stride: 2 });
    expect(grid).toHaveLength(13);
    expect(grid.every((row) => row.length === 13)).toBe(true);

    // The model's own view of the upload: ink is where the prepared digit is bright.
    const metadataFile = path.join(__dirname, '..', '..', 'model-store', 'mnist', '1', 'metadata.json');
    const metadata = parseMetadata(JSON.parse(readFileSync(metadataFile, 'utf8')), metadataFile);
    const prepared = await prepareInput(fixture('mnist', '7.png'), metadata, DEFAULT_IMAGE_LIMITS);
    const heat = pixelSensitivity(grid, occlusionPlan({ height: 28, width: 28, channels: 1 }, patch, stride));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const inside = mean([...heat].filter((_, i) => prepared[i]! > 0.5));
    const outside = mean([...heat].filter((_, i) => prepared[i]! <= 0.5));
    expect(inside).toBeGreaterThan(outside);
    // Occlusion changes the answer somewhere (a 4x4 patch moves the retrained mnist/1 by ~0.048 at most).
    expect(Math.max(...grid.flat())).toBeGreaterThan(0.02);
  });

  it('answers the heatmap as a PNG for Accept: image/png', async () => {
    const res = await explain('/models/mnist/explain?patch=7&stride=7').set('Accept', 'image/png').buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers.vary).toMatch(/Accept/);
    const png = res.body as Buffer;
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([224, 224]); // 28 x 8
  });

  it('bounds the work: too many occlusions 413, a patch bigger than the input or a gapping stride 400', async () => {
    expect(expectProblem(await explain('/models/mnist/explain?patch=1&stride=1'), 413).detail).toMatch(/784 occlusions .*at most 200/);
    expect(expectProblem(await explain('/models/mnist/explain?patch=29'), 400).detail).toMatch(/patch is 29/);
    expect(expectProblem(await explain('/models/mnist/explain?patch=4&stride=5'), 400).detail).toMatch(/stride/);
  });

  it('refuses what it cannot explain: a blank image 422, an unknown model 404', async () => {
    expectProblem(await explain('/models/mnist/explain', await solidImage('image/png', 64, 64, 0xffffffff)), 422);
    expectProblem(await explain('/models/letters/explain'), 404);
  });
});

describe('GET /models/{name}/versions/{version}/card', () => {
  it('reports the test metrics specserve train recorded: mnist on its 1,996 held-out digits, fashion per class', async () => {
    const recorded = (model: string) =>
      (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'model-store', model, '1', 'metadata.json'), 'utf8')) as { training: { test: { accuracy: number; perClass: Record<string, { recall: number }> } } }).training.test;
    const mnist = await service.request.get('/models/mnist/versions/1/card');
    expect(mnist.status).toBe(200);
    expect(mnist.body.metrics).toEqual(expect.objectContaining({ split: 'test', examples: 1996, accuracy: recorded('mnist').accuracy }));
    expect(mnist.body.metrics.confusion).toHaveLength(10);
    const fashion = (await service.request.get('/models/fashion/versions/1/card')).body;
    expect(fashion.metrics.perClass).toHaveLength(10);
    expect(fashion.metrics.perClass).toContainEqual(expect.objectContaining({ label: 'Shirt', accuracy: recorded('fashion').perClass.Shirt!.recall }));
    expectProblem(await service.request.get('/models/mnist/versions/9/card'), 404);
  });
});
