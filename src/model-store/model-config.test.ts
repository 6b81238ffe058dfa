import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_BATCH_POLICY, DEFAULT_MODEL_CONFIG, readModelConfig, selectVersions, sourceKind } from './model-config';

let dir: string;
const write = (text: string) => writeFileSync(path.join(dir, 'config.yaml'), text);
const HASH = 'ab'.repeat(32);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'specserve-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readModelConfig', () => {
  it('defaults without a file, and reads each version policy', () => {
    expect(readModelConfig(dir)).toEqual(DEFAULT_MODEL_CONFIG);
    write('version_policy: { all: true }\n');
    expect(readModelConfig(dir)).toEqual({ version_policy: { all: true }, batching: DEFAULT_BATCH_POLICY });
    write('version_policy: { specific: [2, 5] }\n');
    expect(readModelConfig(dir)).toEqual({ version_policy: { specific: [2, 5] }, batching: DEFAULT_BATCH_POLICY });
  });

  it('reads a source; version defaults to 1 and the hash is lower-cased', () => {
    write(`source:\n  url: https://example.org/models/mnist.tar.gz\n  sha256: ${HASH.toUpperCase()}\n`);
    expect(readModelConfig(dir)).toEqual({ version_policy: { latest: 1 }, source: { url: 'https://example.org/models/mnist.tar.gz', sha256: HASH, version: 1 }, batching: DEFAULT_BATCH_POLICY });
    write(`version_policy: { latest: 2 }\nsource: { url: 'http://host:8080/m/model.json?sig=x', sha256: ${HASH}, version: 7 }\n`);
    expect(readModelConfig(dir)).toEqual({ version_policy: { latest: 2 }, source: { url: 'http://host:8080/m/model.json?sig=x', sha256: HASH, version: 7 }, batching: DEFAULT_BATCH_POLICY });
  });

  it('reads dynamic_batching, each field defaulting on its own', () => {
    write('dynamic_batching: { max_batch_size: 8, batch_timeout_ms: 2.5 }\n');
    expect(readModelConfig(dir).batching).toEqual({ maxBatchSize: 8, batchTimeoutMs: 2.5, maxQueue: DEFAULT_BATCH_POLICY.maxQueue });
    write('dynamic_batching: { max_queue: 4 }\n');
    expect(readModelConfig(dir).batching).toEqual({ ...DEFAULT_BATCH_POLICY, maxQueue: 4 });
  });

  it.each([
    ['dynamic_batching: { max_batch_size: 0 }', /\/dynamic_batching\/max_batch_size must be >= 1/],
    ['dynamic_batching: { batch_size: 8 }', /\/dynamic_batching must NOT have additional properties/],
    [`source: { url: https://h/m.tar.gz, sha256: abc }`, /config\.yaml: \/source\/sha256 must be 64 hex characters .* got 3 characters/],
    [`source: { url: https://h/m.tar.gz, sha256: ${'g'.repeat(64)} }`, /\/source\/sha256 must be 64 hex characters/],
    [`source: { url: ftp://h/m.tar.gz, sha256: ${HASH} }`, /\/source\/url must be http:\/\/ or https:\/\/ \(got ftp:\)/],
    [`source: { url: https://h/m.zip, sha256: ${HASH} }`, /\/source\/url must end in \.tar\.gz, \.tgz .* or model\.json/],
    [`source: { url: not a url, sha256: ${HASH} }`, /\/source\/url "not a url" is not an absolute URL/],
    [`source: { url: https://h/m.tgz, sha256: ${HASH}, version: 0 }`, /\/source\/version must be >= 1/],
    [`source: { url: https://h/m.tgz }`, /\/source must have required property 'sha256'/],
    [`source: { url: https://h/m.tgz, sha256: ${HASH}, checksum: x }`, /\/source must NOT have additional properties/],
  ])('refuses %s, naming the file and the field', (text, message) => {
    write(`${text}\n`);
    expect(() => readModelConfig(dir)).toThrow(message);
    expect(() => readModelConfig(dir)).toThrow(path.join(dir, 'config.yaml'));
  });
});

describe('sourceKind', () => {
  it('tells an archive from a model.json by the URL path, ignoring the query', () => {
    expect(sourceKind('https://h/a/m.tar.gz?x=1')).toBe('archive');
    expect(sourceKind('https://h/a/m.TGZ')).toBe('archive');
    expect(sourceKind('https://h/a/model.json?sig=abc')).toBe('model-json');
    expect(sourceKind('https://h/a/weights.bin')).toBeUndefined();
    expect(sourceKind('nonsense')).toBeUndefined();
  });
});

describe('selectVersions', () => {
  it('follows the policy', () => {
    expect(selectVersions([3, 1, 2], { latest: 2 })).toEqual([2, 3]);
    expect(selectVersions([3, 1, 2], { specific: [1, 9] })).toEqual([1]);
  });
});
