/**
 * Writes the files the README's examples use, from fixtures already in the repository:
 * - test/fixtures/fashion/sneaker.png: a Fashion-MNIST test image (light garment on black, as
 *   stored) turned into what a person would send: dark on a light background, 140x140;
 * - examples/requests/*.json: TF Serving and KServe request bodies for the digit 7 of
 *   test/fixtures/mnist/7.png (MNIST form: white digit on black, values 0..1, 28x28x1).
 *
 *   npx ts-node scripts/make-readme-examples.ts
 *
 * The output is a pure function of those fixtures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { readIdxFile } from '../src/training/idx';

const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const EXAMPLES = path.join(ROOT, 'examples', 'requests');
/** The first Sneaker (label 7) among the 200 Fashion-MNIST test images in test/fixtures/idx. */
const SNEAKER = 7;

async function sneakerPhoto(): Promise<void> {
  const images = readIdxFile(path.join(FIXTURES, 'idx', 'fashion-t10k-images-first200-idx3-ubyte.gz'));
  const labels = readIdxFile(path.join(FIXTURES, 'idx', 'fashion-t10k-labels-first200-idx1-ubyte.gz'));
  const index = Array.from(labels.data).indexOf(SNEAKER);
  const pixels = images.data.subarray(index * 784, (index + 1) * 784);
  const image = new Jimp({ width: 28, height: 28 });
  for (let i = 0; i < 784; i++) {
    const v = 255 - Number(pixels[i]); // dark garment on light paper
    image.bitmap.data.set([v, v, v, 255], i * 4);
  }
  image.resize({ w: 140, h: 140 });
  mkdirSync(path.join(FIXTURES, 'fashion'), { recursive: true });
  await image.write(path.join(FIXTURES, 'fashion', 'sneaker.png') as `${string}.png`);
  console.log(`test/fixtures/fashion/sneaker.png: Fashion-MNIST test image #${index} (label ${SNEAKER}, Sneaker)`);
}

async function digitRequests(): Promise<void> {
  const digit = await Jimp.read(path.join(FIXTURES, 'mnist', '7.png'));
  const { width, height, data } = digit.bitmap;
  const rows: number[][][] = [];
  for (let y = 0; y < height; y++) {
    rows.push(Array.from({ length: width }, (_, x) => [Math.round((data[(y * width + x) * 4]! / 255) * 1000) / 1000]));
  }
  mkdirSync(EXAMPLES, { recursive: true });
  const write = (name: string, body: unknown) => writeFileSync(path.join(EXAMPLES, name), `${JSON.stringify(body)}\n`);
  write('mnist-7.tfserving.json', { instances: [rows] });
  write('mnist-7.kserve.json', {
    id: 'readme-7',
    inputs: [{ name: 'image', shape: [1, height, width, 1], datatype: 'FP32', data: rows.flat(2) }],
    outputs: [{ name: 'probs', parameters: { classification: 3 } }],
  });
  console.log('examples/requests/mnist-7.tfserving.json, mnist-7.kserve.json');
}

void (async () => {
  await sneakerPhoto();
  await digitRequests();
})();
