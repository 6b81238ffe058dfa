import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_STORE } from '../paths';
import { aspiredVersions, detectLayout, scanStore, singleModelHint } from './repository';

const MNIST_1 = path.join(DEFAULT_MODEL_STORE, 'mnist', '1');

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'layout-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder laid out as KServe's storage initializer leaves a storageUri in /mnt/models. */
function mount(...versions: number[]): string {
  const models = path.join(tmp, 'models');
  for (const v of versions) cpSync(MNIST_1, path.join(models, String(v)), { recursive: true });
  return models;
}

describe('store layouts (MODEL_STORE, MODEL_NAME)', () => {
  it('reads a store of <name>/<version>/ folders without MODEL_NAME, and with one that names no single model', () => {
    const names = scanStore(DEFAULT_MODEL_STORE).map((v) => `${v.name}/${v.version}`);
    expect(names).toEqual(expect.arrayContaining(['mnist/1', 'fashion/1', 'imagenet/1']));
    expect(detectLayout(DEFAULT_MODEL_STORE, 'digits')).toEqual({ kind: 'store' });
    expect(scanStore(DEFAULT_MODEL_STORE, 'digits').map((v) => `${v.name}/${v.version}`)).toEqual(names);
  });

  it('reads a folder of numeric versions as one model named MODEL_NAME, with its config.yaml', () => {
    const models = mount(1, 2, 3);
    writeFileSync(path.join(models, 'config.yaml'), 'version_policy:\n  specific: [1, 3]\n');
    expect(detectLayout(models, 'digits')).toEqual({ kind: 'model', name: 'digits' });
    expect(scanStore(models, 'digits')).toEqual([1, 2, 3].map((v) => ({ name: 'digits', version: v, dir: path.join(models, String(v)), configDir: models })));
    expect(aspiredVersions(models, 'digits')).toEqual([{ name: 'digits', versions: [1, 3].map((v) => expect.objectContaining({ version: v })) }]);
  });

  it('reads a folder of model files as version 1 (or the version its own name gives) of MODEL_NAME', () => {
    mkdirSync(path.join(tmp, 'models'));
    const files = path.join(tmp, 'models');
    cpSync(MNIST_1, files, { recursive: true });
    expect(scanStore(files, 'digits')).toEqual([{ name: 'digits', version: 1, dir: files, configDir: files }]);
    expect(scanStore(MNIST_1, 'digits')).toEqual([{ name: 'digits', version: 1, dir: MNIST_1, configDir: MNIST_1 }]);
    const seven = path.join(tmp, '7');
    cpSync(MNIST_1, seven, { recursive: true });
    expect(aspiredVersions(seven, 'digits')).toEqual([{ name: 'digits', versions: [expect.objectContaining({ version: 7, dir: seven })] }]);
  });

  it('says to set MODEL_NAME when a store read without it is one model or one version', () => {
    expect(scanStore(mount(1))).toEqual([]);
    expect(singleModelHint(mount(1))).toMatch(/holds one model .* set MODEL_NAME/);
    expect(singleModelHint(MNIST_1)).toMatch(/set MODEL_NAME/);
    expect(singleModelHint(DEFAULT_MODEL_STORE)).toBeUndefined();
    expect(singleModelHint(path.join(tmp, 'missing'))).toBeUndefined();
  });

  it('fails with what to set when the store cannot be read', () => {
    expect(() => scanStore(path.join(tmp, 'missing'), 'digits')).toThrow(/cannot be read \(ENOENT\); set MODEL_STORE/);
  });
});
