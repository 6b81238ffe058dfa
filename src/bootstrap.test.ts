import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from './bootstrap';
import { loadConfig } from './config';
import { DEFAULT_MODEL_STORE, HANDLERS_DIR, SPEC_FILE } from './paths';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'specserve-start-'));

describe('start-up fails fast with a message that says what to fix', () => {
  it('an operationId without a handler names the operationId and the file', async () => {
    const spec = path.join(tmp(), 'api.yaml');
    writeFileSync(spec, readFileSync(SPEC_FILE, 'utf8').replace('operationId: mnist.postImage', 'operationId: digits.postImage'));
    await expect(startService(loadConfig({}), spec, HANDLERS_DIR)).rejects.toThrow(
      new RegExp(`operationId 'digits.postImage'.*${path.join(HANDLERS_DIR, 'digits')}`),
    );
  });

  it('a document that is not valid OpenAPI names the file and the problem', async () => {
    const spec = path.join(tmp(), 'api.yaml');
    const original = readFileSync(SPEC_FILE, 'utf8');
    const broken = original.replace("'200':\n          description: The digit", "'200':\n          descr: The digit");
    expect(broken).not.toBe(original);
    writeFileSync(spec, broken);
    await expect(startService(loadConfig({}), spec, HANDLERS_DIR)).rejects.toThrow(/api\.yaml: does not satisfy the OpenAPI 3\.0\.3 schema/);
  });

  it('a model whose metadata.json is invalid names the file and the field', async () => {
    const store = tmp();
    cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist'), path.join(store, 'mnist'), { recursive: true });
    const metadataFile = path.join(store, 'mnist', '1', 'metadata.json');
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8'));
    delete metadata.labels;
    writeFileSync(metadataFile, JSON.stringify(metadata));
    await expect(startService({ ...loadConfig({}), modelStore: store })).rejects.toThrow(
      new RegExp(`${metadataFile.replace(/[.]/g, '\\.')}: .*labels`),
    );
  });

  it('a model whose weights are missing names the shard', async () => {
    const store = tmp();
    cpSync(path.join(DEFAULT_MODEL_STORE, 'mnist'), path.join(store, 'mnist'), { recursive: true });
    const modelJson = JSON.parse(readFileSync(path.join(store, 'mnist', '1', 'model.json'), 'utf8'));
    const shard: string = modelJson.weightsManifest[0].paths[0];
    rmSync(path.join(store, 'mnist', '1', shard));
    await expect(startService({ ...loadConfig({}), modelStore: store })).rejects.toThrow(new RegExp(`weight shard ${shard}`));
  });

  it('an empty model store says what it expected', async () => {
    await expect(startService({ ...loadConfig({}), modelStore: tmp() })).rejects.toThrow(/No model in .*<name>\/<version>/);
  });
});
