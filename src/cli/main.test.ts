import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type LocalServer, localServer, MNIST_DIR, mnistArchive, mnistFileRoutes, sha256, tempDir } from '../../test/support/model-source';
import type { CliIo } from './command';
import { main } from './main';
import { PULL_USAGE, parsePullArgs, pull } from './pull';

let server: LocalServer;
let tmp: ReturnType<typeof tempDir>;
let archive: { bytes: Buffer; sha256: string };
let url: string;

/** Runs the CLI in-process, capturing what it prints. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  tmp = tempDir('specserve-cli-');
  archive = await mnistArchive(tmp.dir);
  server = await localServer({ '/m/mnist.tar.gz': archive.bytes, ...mnistFileRoutes('/loose') });
  url = `${server.origin}/m/mnist.tar.gz`;
});
afterAll(async () => {
  await server.close();
  tmp.cleanUp();
});

describe('specserve (dispatch)', () => {
  it('--help lists the commands; no command or an unknown one is a usage error (exit 2)', async () => {
    const help = await run('--help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/usage: specserve <command>[\s\S]*pull +download a model from a URL/);
    expect(await run()).toMatchObject({ code: 2, stderr: expect.stringContaining('specserve: a command is needed') });
    expect(await run('serve')).toMatchObject({ code: 2, stderr: expect.stringContaining("specserve: unknown command 'serve'") });
    expect(await run('pull', '--help')).toEqual({ code: 0, stdout: PULL_USAGE, stderr: '' });
  });
});

describe('specserve pull', () => {
  const hex = 'ab'.repeat(32);
  it.each([
    [['pull'], 'the model URL is missing'],
    [['pull', 'https://h/m.tgz', '--name', 'm'], '--sha256 is required'],
    [['pull', 'https://h/m.tgz', '--sha256', hex], '--name is required'],
    [['pull', 'https://h/m.tgz', '--sha256', 'abc', '--name', 'm'], '--sha256 must be 64 hex characters'],
    [['pull', 'ftp://h/m.tgz', '--sha256', hex, '--name', 'm'], '<url> must be http:// or https://'],
    [['pull', 'https://h/m.zip', '--sha256', hex, '--name', 'm'], '<url> must end in .tar.gz, .tgz'],
    [['pull', 'https://h/m.tgz', '--sha256', hex, '--name', '../x'], '--name "../x": expected letters'],
    [['pull', 'https://h/m.tgz', '--sha256', hex, '--name', 'm', '--version', '0'], '--version "0": expected a whole number'],
    [['pull', 'https://h/m.tgz', '--sha256', hex, '--name', 'm', '--force'], "Unknown option '--force'"],
  ])('%j: exit 2 with the reason and the usage', async (argv, message) => {
    const { code, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(`specserve pull: ${message}`);
    expect(stderr).toContain('usage: specserve pull');
  });

  it('writes the version folder as the server would, then finds it current', async () => {
    const store = path.join(tmp.dir, 'store-a');
    const first = await run('pull', url, '--sha256', archive.sha256, '--name', 'digits', '--version', '4', '--store', store);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('digits/4: downloaded, sha256 verified');
    expect(first.stdout).toContain(`source:\n    url: ${url}\n    sha256: ${archive.sha256}\n    version: 4`);
    expect(existsSync(path.join(store, 'digits', '4', 'model.json'))).toBe(true);
    expect(existsSync(path.join(store, 'digits', 'config.yaml'))).toBe(false); // pull does not write config.yaml
    const again = await run('pull', url, '--sha256', archive.sha256, '--name', 'digits', '--version', '4', '--store', store);
    expect(again.stdout).toContain('digits/4: already there (made from this sha256); nothing fetched');
    expect(server.count('/m/mnist.tar.gz')).toBe(1);
  });

  it('exits 1 on a wrong hash, saying expected and actual', async () => {
    const store = path.join(tmp.dir, 'store-b');
    const { code, stderr } = await run('pull', url, '--sha256', 'c'.repeat(64), '--name', 'digits', '--store', store);
    expect(code).toBe(1);
    expect(stderr).toContain(`specserve pull: sha256 mismatch for ${url}: --sha256 is ${'c'.repeat(64)}, the file's is ${archive.sha256}; nothing was written. Check --sha256`);
    expect(existsSync(path.join(store, 'digits', '1'))).toBe(false);
  });

  it('pull() takes a model.json URL; options come from the environment unless given', async () => {
    const store = path.join(tmp.dir, 'store-c');
    const modelJson = `${server.origin}/loose/model.json`;
    const options = parsePullArgs([modelJson, '--sha256', sha256(readFileSync(path.join(MNIST_DIR, 'model.json'))), '--name', 'loose'], {
      MODEL_STORE: store,
      DOWNLOAD_TIMEOUT_MS: '5000',
      DOWNLOAD_MAX_BYTES: '50000000',
    });
    expect(options).toMatchObject({ store, limits: { timeoutMs: 5000, maxBytes: 50_000_000 }, source: { version: 1 } });
    expect(await pull(options)).toEqual({ dir: path.join(store, 'loose', '1'), how: 'downloaded' });
  });

  it('runs as a program (ts-node) and exits 0', async () => {
    const store = path.join(tmp.dir, 'store-d');
    // Asynchronously: the test's HTTP server runs in this process and must keep answering.
    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const argv = ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'main.ts'), ...args];
        const child = execFile(process.execPath, argv, { encoding: 'utf8', timeout: 30_000, env: { ...process.env, MODEL_STORE: store } }, (_e, stdout, stderr) =>
          resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
    const ok = await cli('pull', url, '--sha256', archive.sha256, '--name', 'digits');
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^digits\/1: downloaded, sha256 verified/);
    expect(existsSync(path.join(store, 'digits', '1', '.source.json'))).toBe(true);
  });
});
