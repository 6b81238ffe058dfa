import { loadMnistSplit } from '../../src/training/mnist-data';
import { pngOfPixels } from '../support/images';
import { useTestService } from '../support/service';

/**
 * Held-out MNIST digits (never trained on) sent the way a user would: as PNG files through HTTP,
 * through the whole decode + preprocessing + inference path.
 */
const SAMPLE = 300;

const service = useTestService();


it(`classifies ${SAMPLE} held-out MNIST digits sent as PNG with >= 97% accuracy`, async () => {
  const { heldOut } = loadMnistSplit();
  // An even spread over the held-out set, not its first few (which may be grouped by digit).
  const step = Math.floor(heldOut.length / SAMPLE);
  const sample = Array.from({ length: SAMPLE }, (_, i) => heldOut[i * step]);
  let correct = 0;
  for (const { pixels, label } of sample) {
    const res = await service.request.post('/mnist/classify').attach('file', await pngOfPixels(pixels), 'digit.png');
    expect(res.status).toBe(200);
    if (res.body.digit === label) correct++;
  }
  const accuracy = correct / SAMPLE;
  console.log(`held-out MNIST through HTTP: ${correct}/${SAMPLE} = ${(accuracy * 100).toFixed(1)}%`);
  expect(accuracy).toBeGreaterThanOrEqual(0.97);
});
