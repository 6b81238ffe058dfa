/**
 * An independent gRPC client against the real server process: Python grpcio with stubs that
 * grpc_tools.protoc generates, at run time, from the protos the server loads (api/protos). Needs
 * Debian's python3-grpcio and python3-grpc-tools (.ci/run installs them); without them the
 * suite is skipped and says why.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/children';
import { FIXTURES } from '../support/service';

const ROOT = path.join(__dirname, '..', '..');
const PROTOS = path.join(ROOT, 'api', 'protos');
const CLIENT = path.join(ROOT, 'test', 'clients', 'tfserving_grpc_client.py');

/** The first python3 that has grpcio and grpc_tools (pyenv's python3 may shadow Debian's). */
function pythonWithGrpc(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((python) => {
    try {
      execFileSync(python, ['-c', 'import grpc, grpc_tools.protoc'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

/** Every .proto the client needs (not grpc/health: grpcio's own `grpc` package would shadow it). */
function clientProtos(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(PROTOS, dir)).flatMap((name) => {
      const rel = path.join(dir, name);
      return statSync(path.join(PROTOS, rel)).isDirectory() ? walk(rel) : name.endsWith('.proto') ? [rel] : [];
    });
  return ['tensorflow_serving', 'tensorflow', 'kserve'].flatMap(walk);
}

async function waitReady(port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode})`);
    const ok = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server not ready within 90 s');
}

const python = pythonWithGrpc();
const suite = python ? describe : describe.skip;

suite(python ? 'Python grpcio client (stubs from api/protos) against the server process' : 'Python grpcio client: SKIPPED, python3 with grpcio and grpc_tools not found (apt-get install python3-grpcio python3-grpc-tools)', () => {
  let child: ChildProcess;
  let stderr = '';
  let grpcPort: number;
  let stubs: string;
  const key = 'python-grpc-key-51c2';

  beforeAll(async () => {
    stubs = mkdtempSync(path.join(os.tmpdir(), 'specserve-stubs-'));
    execFileSync(python!, ['-m', 'grpc_tools.protoc', '-I', PROTOS, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, ...clientProtos()], { cwd: PROTOS });
    const port = await freePort();
    grpcPort = await freePort();
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'server.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), GRPC_PORT: String(grpcPort), HOST: '127.0.0.1', WORKERS: '1', MODEL_POLL_SECONDS: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json', API_KEYS: key },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitReady(port, child);
  }, 120_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(stubs, { recursive: true, force: true });
  });

  it.each([3, 7])('Predict, GetModelStatus and v2 ModelInfer on the digit %i', async (digit) => {
    const { stdout } = await promisify(execFile)(python!, [CLIENT, stubs, `127.0.0.1:${grpcPort}`, path.join(FIXTURES, 'mnist', `${digit}.png`), key]);
    expect(stdout.trim().split('\n')).toEqual([`predict ${digit}`, `predict-pixels ${digit}`, 'status 1 AVAILABLE', `infer ${digit}`]);
  }, 60_000);

  it('logged each RPC and drains gRPC on SIGTERM: exit 0, clean', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; rpc?: string; code?: string; clean?: boolean });
    const rpcs = lines.filter((l) => l.msg === 'rpc completed');
    expect(rpcs.filter((l) => l.code === 'OK').map((l) => l.rpc)).toEqual(expect.arrayContaining(['/tensorflow.serving.PredictionService/Predict', '/tensorflow.serving.ModelService/GetModelStatus', '/inference.GRPCInferenceService/ModelInfer']));
    expect(lines.find((l) => l.msg === 'shut down')).toMatchObject({ clean: true });
  }, 60_000);
});
