/**
 * Every `curl` line in README.md, run as written (bash, from the repository root) against a
 * started server, so the README cannot drift from what the server does: each must answer 2xx, and
 * the answer must carry what the `# ...` comment line under it shows: every key it names, every
 * string, integer or boolean value it gives for a key (`"digit":7`, `"label":"beagle"`), or the
 * status line (`# HTTP/1.1 200 OK`). Abridged numbers (`0.99..`) are not compared.
 */
import { execFile, type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/children';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
const README_PORT = 'localhost:5000';

interface Example {
  command: string;
  /** The comment line under it, without '# ', if any. */
  shows: string | undefined;
}

/** The curl lines of the README's sh blocks, each with the comment line under it. */
function readmeExamples(): Example[] {
  const examples: Example[] = [];
  const blocks = readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g);
  for (const [, body] of blocks) {
    const lines = body!.split('\n');
    lines.forEach((line, i) => {
      if (!line.startsWith('curl ')) return;
      const next = lines[i + 1];
      examples.push({ command: line, shows: next?.startsWith('# ') ? next.slice(2) : undefined });
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

beforeAll(async () => {
  port = await freePort();
  server = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '1', MODEL_POLL_SECONDS: '0', LOG_LEVEL: 'warn' },
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
afterAll(() => server?.kill('SIGKILL'));

const examples = readmeExamples();

it('the README has curl examples for every family of routes', () => {
  const routes = examples.map((e) => e.command);
  for (const route of ['/mnist/classify', '/predict', '/inference', '/scorefile/', '/models/fashion/classify', ':predict', ':classify', '/v2/models/mnist/infer', '/v2/health/ready']) {
    expect(routes.some((c) => c.includes(route))).toBe(true);
  }
});

it.each(examples.map((e) => [e.command, e]))('%s', async (_command, { command, shows }) => {
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
