import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { editedKeras, kerasFixture, unzip, zipOf } from '../../../test/support/keras-files';
import { readKerasFile } from '.';

/**
 * Files that must be refused before any weight is read, each with a message naming the file and
 * the reason (and, where there is one, what to do).
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), 'specserve-keras-bad-'));
const CNN_H5 = kerasFixture('keras2', 'naonaorange-cnn_mnist.h5');
const CNN_KERAS = kerasFixture('keras3', 'naonaorange-cnn_mnist.keras');

function write(name: string, bytes: Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, bytes);
  return file;
}

type Layers = Array<Record<string, unknown>>;
const layersOf = (config: Record<string, unknown>) => (config.config as { layers: Layers }).layers;

const cases: Array<[string, () => string, RegExp]> = [
  ['a truncated .h5', () => write('truncated.h5', readFileSync(CNN_H5).subarray(0, 300_000)), /truncated or corrupt.*\(HDF5: truncated file: eof = 300000/],
  ['random bytes named .h5', () => write('random.h5', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251))), /neither an HDF5 file.*nor a zip/],
  ['a weights-only file (save_weights)', () => kerasFixture('keras3', 'weights_only.h5'), /weights only \(written by save_weights: no model_config\); save the whole model/],
  [
    'a .keras zip without config.json',
    () => write('no-config.keras', zipOf([...unzip(CNN_KERAS)].filter(([n]) => n !== 'config.json').map(([name, data]) => ({ name, data })))),
    /has no config\.json \(it holds: metadata\.json, model\.weights\.h5\)/,
  ],
  ['a zip with a ../ member', () => write('climb.keras', zipOf([{ name: '../../etc/cron.d/x', data: Buffer.from('x') }])), /member "\.\.\/\.\.\/etc\/cron\.d\/x" climbs out of the archive/],
  ['a zip with an absolute member', () => write('absolute.keras', zipOf([{ name: '/etc/passwd', data: Buffer.from('x') }])), /member "\/etc\/passwd" is an absolute path/],
  [
    'a zip bomb (declared sizes far above the file)',
    () => write('bomb.keras', zipOf([{ name: 'config.json', data: Buffer.alloc(4096), deflate: true, declaredSize: 0xfffffff0 }])),
    /config\.json declares 4294967280 bytes from \d+ compressed \(a zip bomb/,
  ],
  [
    'a zip whose member inflates past its declared size',
    () => write('liar.keras', zipOf([{ name: 'config.json', data: Buffer.alloc(1_000_000, 32), deflate: true, declaredSize: 2000 }])),
    /config\.json does not inflate to its declared 2000 bytes/,
  ],
  [
    'a Lambda layer',
    () =>
      editedKeras(CNN_KERAS, path.join(tmp, 'lambda.keras'), (config) => {
        layersOf(config).splice(2, 0, { module: 'keras.layers', class_name: 'Lambda', config: { name: 'scale_it', function: { class_name: '__lambda__' } } });
      }),
    /layer 'scale_it' \(Lambda\) is not supported: runs arbitrary Python code/,
  ],
  [
    'a RandomFlip and a custom layer (both named)',
    () =>
      editedKeras(CNN_KERAS, path.join(tmp, 'augment.keras'), (config) => {
        layersOf(config).splice(1, 0, { class_name: 'RandomFlip', config: { name: 'flip' } }, { class_name: 'MyBlock', config: { name: 'mine' } });
      }),
    /layer 'flip' \(RandomFlip\) is not supported: a random augmentation layer.*layer 'mine' \(MyBlock\) is not supported: TF\.js has no such layer/,
  ],
  [
    'a nested model',
    () =>
      editedKeras(CNN_KERAS, path.join(tmp, 'nested.keras'), (config) => {
        layersOf(config).splice(1, 0, { class_name: 'Sequential', config: { name: 'backbone', layers: [] } });
      }),
    /layer 'backbone' \(Sequential\) is a nested model/,
  ],
  [
    'mixed precision',
    () =>
      editedKeras(CNN_KERAS, path.join(tmp, 'mixed.keras'), (config) => {
        (layersOf(config)[1]!.config as Record<string, unknown>).dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' } };
      }),
    /layer 'conv2d' \(Conv2D\) computes in mixed_float16 \(mixed precision\)/,
  ],
];

describe('refused before any weight is read, naming the file and the reason', () => {
  it.each(cases)('%s', async (_what, make, reason) => {
    const file = make();
    const refusal = readKerasFile(file, true);
    await expect(refusal).rejects.toThrow(reason);
    await expect(refusal).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
  });

  it('weights over KERAS_MAX_WEIGHTS_BYTES', async () => {
    await expect(readKerasFile(CNN_H5, true, 100_000)).rejects.toThrow(/its weights declare 373288 bytes \(93322 parameters\), more than KERAS_MAX_WEIGHTS_BYTES=100000/);
  });

  it('a test zip reads back as written (the writer the cases above rely on)', () => {
    const file = write('ok.zip', zipOf([{ name: 'a.txt', data: Buffer.from('hello'), deflate: true }]));
    expect(unzip(file).get('a.txt')?.toString()).toBe('hello');
    expect(crc32('hello')).toBe(0x3610a686);
  });
});
