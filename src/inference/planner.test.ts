import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_STORE } from '../paths';
import { Planner } from './planner';

const MNIST = { name: 'mnist', version: 1, dir: path.join(DEFAULT_MODEL_STORE, 'mnist', '1') };
const waitUntil = async (check: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
};

describe('Planner (the planning thread)', () => {
  let planner: Planner;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'planner-'));
    ({ planner } = await Planner.start('wasm', 300));
  });
  afterAll(async () => {
    await planner.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('plans the shipped MNIST model onto ONNX with the converted graph, then ends its thread when idle', async () => {
    const plan = await planner.plan(MNIST, undefined);
    expect(plan.name).toBe('onnx');
    if (plan.name !== 'onnx') throw new Error('unreachable');
    expect(plan.graph.model).toBeInstanceOf(Uint8Array);
    expect(plan.reason).toMatch(/matches TF\.js within/);
    await waitUntil(() => !planner.threadAlive, 5000);
    expect(planner.threadAlive).toBe(false);
  });

  it('starts a new thread for the next version after the last one ended', async () => {
    await waitUntil(() => !planner.threadAlive, 5000);
    const plan = await planner.plan(MNIST, 'tfjs');
    expect(plan).toEqual({ name: 'tfjs', reason: 'engine: tfjs in config.yaml' });
  });

  it('rejects a version that cannot serve with the file and the reason, and keeps planning others', async () => {
    const dir = path.join(scratch, 'broken', '1');
    cpSync(MNIST.dir, dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
    await expect(planner.plan({ name: 'broken', version: 1, dir }, undefined)).rejects.toThrow(/model\.json/);
    expect((await planner.plan(MNIST, undefined)).name).toBe('onnx');
  });

  it('refuses to start when the forced TF.js backend cannot start, saying so', async () => {
    await expect(Planner.start('tensorflow')).rejects.toThrow(/TensorFlow\.js could not start/);
  });
});
