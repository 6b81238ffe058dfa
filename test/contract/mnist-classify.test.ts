import { jimpOf } from '../support/images';
import { fixture, useTestService } from '../support/service';

// Labels of the real MNIST PNGs in test/fixtures/mnist (see test/fixtures/SOURCES.md).
const DIGIT_FILES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => ({ file: `${d}.png`, digit: Number(d) }));

const service = useTestService();

describe('POST /mnist/classify', () => {
  it.each([...DIGIT_FILES, { file: 'mnist-1001.png', digit: 0 }])('reads $file as $digit', async ({ file, digit }) => {
    const res = await service.request.post('/mnist/classify').attach('file', fixture('mnist', file), file);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.digit).toBe(digit);
    expect(res.body.probabilities).toHaveLength(10);
    expect(res.body.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    expect(res.body.confidence).toBe(res.body.probabilities[digit]);
    expect(res.body.confidence).toBe(Math.max(...res.body.probabilities));
    expect(res.body.model).toEqual({ name: 'mnist', version: 1 });
  });

  it('gives the same answer for the same image sent as JPEG, BMP, GIF and TIFF', async () => {
    const image = await jimpOf(fixture('mnist', '7.png'));
    for (const mime of ['image/jpeg', 'image/bmp', 'image/gif', 'image/tiff'] as const) {
      const bytes = await image.getBuffer(mime);
      const res = await service.request.post('/mnist/classify').attach('file', bytes, `seven.${mime.split('/')[1]}`);
      expect({ mime, status: res.status, digit: res.body.digit }).toEqual({ mime, status: 200, digit: 7 });
    }
  });
});
