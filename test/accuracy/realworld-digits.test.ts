import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, useTestService } from '../support/service';

/**
 * Digits as users photograph or scan them (dark ink on light paper, several fonts, sizes,
 * positions, PNG and JPEG; see test/fixtures/digits-realworld/README.md), sent through HTTP.
 * The preprocessing recipe should make them about as readable as MNIST itself.
 */
const DIR = path.join(FIXTURES, 'digits-realworld');
const files = readdirSync(DIR).filter((f) => /^\d-.+\.(png|jpe?g)$/i.test(f));
const MIN_ACCURACY = 0.95;

const service = useTestService();

it(`reads the real-world-style digit set with >= ${MIN_ACCURACY * 100}% accuracy`, async () => {
  expect(files.length).toBeGreaterThanOrEqual(200);
  const wrong: string[] = [];
  for (const file of files) {
    const res = await service.request.post('/mnist/classify').attach('file', readFileSync(path.join(DIR, file)), file);
    expect(res.status).toBe(200);
    if (res.body.digit !== Number(file[0])) wrong.push(`${file}->${res.body.digit}`);
  }
  const accuracy = 1 - wrong.length / files.length;
  console.log(`real-world-style digits: ${files.length - wrong.length}/${files.length} = ${(accuracy * 100).toFixed(1)}%; wrong: ${wrong.join(' ')}`);
  expect(accuracy).toBeGreaterThanOrEqual(MIN_ACCURACY);
});
