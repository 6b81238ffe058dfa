/**
 * Every `curl` line in README.md, run as written (bash, from the repository root) against a
 * started server, so the README cannot drift from what the server does: each must answer 2xx, and
 * the answer must carry what the `# ...` comment line under it shows: every key it names, every
 * string, integer or boolean value it gives for a key (`"digit":7`, `"label":"beagle"`), or the
 * status line (`# HTTP/1.1 200 OK`). Abridged numbers (`0.99..`) are not compared.
 * The lines that add a model to the store (`npx specserve import`, or writing into
 * `model-store/<name>/`) run too, in README order, on a copy of the shipped store that the server
 * serves, so the repository's own store is left as it is; the test then waits for the server to
 * serve the new model.
 */
import { execFile, type ChildProcess, spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/children';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { tempDir } from '../support/model-source';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
const README_PORT = 'localhost:5000';

interface Example {
  command: string;
  /** The comment line under it, without '# ', if any. */
  shows: string | undefined;
  /** For a line that adds a model to the store: its name. */
  adds?: string;
}

/** The model a README line adds to the store, if it does. */
function addedModel(line: string): string | undefined {
  if (line.startsWith('npx specserve import ')) return /--name (\S+)/.exec(line)?.[1];
  return /^(?:mkdir|cp|mv) .*\bmodel-store\/([\w.-]+)\//.exec(line)?.[1];
}

/** The curl lines and store-changing lines of the README's sh blocks, in order, each with the comment line under it. */
function readmeExamples(): Example[] {
  const examples: Example[] = [];
  const blocks = readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g);
  for (const [, body] of blocks) {
    const lines = body!.split('\n');
    lines.forEach((line, i) => {
      const adds = addedModel(line);
      if (!line.startsWith('curl ') && adds === undefined) return;
      const next = lines[i + 1];
      examples.push({ command: line, shows: next?.startsWith('# ') ? next.slice(2) : undefined, ...(adds ? { adds } : {}) });
    });
  }
  return examples;
}

/** `"key":` names, and `"key":value` pairs whose value is a string, an integer or a boolean. */
function expectations(shown: string): { keys: string[]; pairs: Array<[string, unknown]> } {
  const keys = [...shown.matchAll(/"([^"]+)":/g)].map((m) => m[1]!);
  const pairs = [...shown.matchAll(/"([^"]+)":("[^"]*"|-?\d+(?![\d.])|true|false)/g)].map((m): [string, unknown] => [m[1]!, JSON.parse(m[2]!)]);
  return { keys, pairs };
}

/** Every key and key/value pair anywhere in a JSON value. */
function entries(value: unknown, into: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (Array.isArray(value)) value.forEach((v) => entries(v, into));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.push([k, v]);
      entries(v, into);
    }
  }
  return into;
}

let server: ChildProcess;
let port: number;
let tmp: ReturnType<typeof tempDir>;
let store: string;

beforeAll(async () => {
  port = await freePort();
  tmp = tempDir('specserve-readme-');
  store = path.join(tmp.dir, 'model-store');
  cpSync(DEFAULT_MODEL_STORE, store, { recursive: true });
  server = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '1', MODEL_STORE: store, MODEL_POLL_SECONDS: '0', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the server did not become ready');
});
afterAll(() => {
  server?.kill('SIGKILL');
  tmp?.cleanUp();
});

/** Runs a store-changing README line on the test's store, then has the server re-read it (SIGHUP) until it serves the model. */
async function addToStore(command: string, model: string): Promise<void> {
  const onTestStore = command.startsWith('npx specserve ')
    ? command.replace(/^npx specserve /, `${process.execPath} -r ts-node/register/transpile-only src/cli/main.ts `)
    : command.replaceAll('model-store/', `${store}/`);
  await promisify(execFile)('bash', ['-c', onTestStore], { cwd: ROOT, env: { ...process.env, MODEL_STORE: store, TFJS_BACKEND: 'wasm' } });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    server.kill('SIGHUP');
    if ((await fetch(`http://127.0.0.1:${port}/v2/models/${model}/ready`)).ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the server did not serve ${model} after: ${command}`);
}

const examples = readmeExamples();

it('the README has curl examples for every family of routes', () => {
  const routes = examples.map((e) => e.command);
  for (const route of ['/mnist/classify', '/predict', '/inference', '/scorefile/', '/models/fashion/classify', ':predict', ':classify', '/v2/models/mnist/infer', '/v2/health/ready']) {
    expect(routes.some((c) => c.includes(route))).toBe(true);
  }
});

it.each(examples.map((e) => [e.command, e]))('%s', async (_command, { command, shows, adds }) => {
  if (adds !== undefined) return addToStore(command, adds);
  expect(command).toContain(README_PORT);
  const runnable = `${command.replaceAll(README_PORT, `127.0.0.1:${port}`)} --silent --show-error --write-out '\\n%{http_code}'`;
  const { stdout } = await promisify(execFile)('bash', ['-c', runnable], { cwd: ROOT, maxBuffer: 10_000_000 });
  const body = stdout.slice(0, stdout.lastIndexOf('\n'));
  const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(300);
  if (shows === undefined) return;
  if (shows.startsWith('HTTP/')) {
    expect(body.split('\r\n')[0]).toBe(shows.trim());
    return;
  }
  const answer = entries(JSON.parse(body) as unknown);
  const { keys, pairs } = expectations(shows);
  for (const key of keys) expect({ key, present: answer.some(([k]) => k === key) }).toEqual({ key, present: true });
  for (const [key, value] of pairs) expect({ key, value, present: answer.some(([k, v]) => k === key && v === value) }).toEqual({ key, value, present: true });
});
