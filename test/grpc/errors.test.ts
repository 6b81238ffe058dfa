import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { BodyBudget } from '../../src/api/inflight';
import { AtCapacity, GatewayTimeout } from '../../src/errors/errors';
import { GrpcAccessControl } from '../../src/grpc/auth';
import type { RpcContext } from '../../src/grpc/call';
import { type GrpcServer, startGrpcServer } from '../../src/grpc/server';
import { ModelManager } from '../../src/inference/manager';
import type { ModelInput, Servable } from '../../src/inference/servable';
import type { ModelMetadata } from '../../src/model-store/metadata';
import { DEFAULT_MODEL_STORE } from '../../src/paths';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { call, type CallOptions, failure, grpcClients, type GrpcClients } from '../support/grpc';
import { captureLogs } from '../support/log-capture';

// The INTERNAL case logs its stack by design; kept out of the test output.
captureLogs('debug');

/**
 * The refusals that need the engine to misbehave (a full queue, a deadline, a crash) or the server
 * to be in a state (draining, keys) come from servables whose predict does what the test says, on
 * the real gRPC server and a real ModelManager.
 */
const METADATA = JSON.parse(readFileSync(path.join(DEFAULT_MODEL_STORE, 'mnist', '1', 'metadata.json'), 'utf8')) as ModelMetadata;
let behaviour: (inputs: readonly ModelInput[]) => Promise<Float32Array[]>;
const KEY = 'grpc-test-key-3b9f';

let store: string;
let context: RpcContext;
let server: GrpcServer;
let clients: GrpcClients;

beforeAll(async () => {
  store = mkdtempSync(path.join(os.tmpdir(), 'specserve-grpc-'));
  mkdirSync(path.join(store, 'mnist', '1'), { recursive: true });
  const models = new ModelManager(store, async ({ name, version }) => ({ name, version, metadata: METADATA, predict: (inputs) => behaviour(inputs), dispose: () => undefined }) as Servable);
  await models.reconcile();
  context = { models, maxBatchInstances: 8, lifecycle: { draining: false }, serverVersion: '1.0.0', access: new GrpcAccessControl([KEY]), observe: () => undefined, bodies: new BodyBudget(10_000) };
  server = await startGrpcServer(context, { port: 0, host: '127.0.0.1', maxMessageBytes: 64 * 1024 });
  clients = grpcClients(server.port);
});

afterAll(async () => {
  clients.close();
  await server.drain(0);
  context.models.dispose();
  rmSync(store, { recursive: true, force: true });
});

const auth: CallOptions = { metadata: { authorization: `Bearer ${KEY}` } };
const request = { model_name: 'mnist', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 28, 28] }], raw_input_contents: [Buffer.alloc(784 * 4)] };
const infer = (options: CallOptions = auth, body: object = request) => call(clients.inference, 'ModelInfer', body, options);
const ok = async (inputs: readonly ModelInput[]) => inputs.map(() => new Float32Array(10).fill(0.1));

describe('API keys (the same API_KEYS as REST) as call metadata', () => {
  beforeEach(() => {
    behaviour = ok;
  });

  it('accepts `authorization: Bearer <key>` and `x-api-key: <key>`', async () => {
    await expect(infer()).resolves.toMatchObject({ model_name: 'mnist' });
    await expect(infer({ metadata: { 'x-api-key': KEY } })).resolves.toMatchObject({ model_name: 'mnist' });
  });

  it('answers no key or a wrong key with UNAUTHENTICATED', async () => {
    const none = await failure(infer({ metadata: {} }));
    expect([none.code, none.details]).toEqual([status.UNAUTHENTICATED, expect.stringMatching(/needs an API key: .*authorization: Bearer/)]);
    const wrong = await failure(infer({ metadata: { 'x-api-key': 'nope' } }));
    expect([wrong.code, wrong.details]).toEqual([status.UNAUTHENTICATED, 'The API key is not valid.']);
  });

  it('leaves the probes open: ServerLive, ServerReady, health Check', async () => {
    expect(await call(clients.inference, 'ServerLive', {})).toEqual({ live: true });
    expect(await call(clients.inference, 'ServerReady', {})).toEqual({ ready: true });
    expect(await call(clients.health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
  });
});

describe('refusals under load, deadlines and failures', () => {
  it('a message that does not decode is INVALID_ARGUMENT (grpc-js alone would say INTERNAL)', async () => {
    const keyMetadata = () => {
      const metadata = new Metadata();
      metadata.set('x-api-key', KEY);
      return metadata;
    };
    const error = await new Promise<ServiceError | null>((resolve) => {
      const client = clients.inference;
      client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff]), keyMetadata(), {}, (e) => resolve(e));
    });
    expect([error?.code, error?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(/does not decode as .*ModelInfer/)]);
  });

  it('a full queue is RESOURCE_EXHAUSTED with retry-after', async () => {
    behaviour = async () => {
      throw new AtCapacity("Model 'mnist' version 1 is at capacity. Retry shortly.", 1);
    };
    const error = await failure(infer());
    expect([error.code, error.details]).toEqual([status.RESOURCE_EXHAUSTED, expect.stringMatching(/at capacity/)]);
    expect(error.metadata.get('retry-after')).toEqual(['1']);
  });

  it('messages past MAX_INFLIGHT_BYTES (shared with REST bodies) are RESOURCE_EXHAUSTED while others are held', async () => {
    behaviour = (inputs) => new Promise((resolve) => setTimeout(() => resolve(inputs.map(() => new Float32Array(10).fill(0.1))), 300));
    // Each message is ~3.1 kB against a 10 kB budget: three fit, the fourth and fifth do not.
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => infer().then(() => 'OK', (e: ServiceError) => status[e.code])));
    expect(outcomes.sort()).toEqual(['OK', 'OK', 'OK', 'RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED']);
    expect(context.bodies.heldBytes).toBe(0);
  });

  it('a message over GRPC_MAX_MESSAGE_BYTES is RESOURCE_EXHAUSTED, unread', async () => {
    behaviour = ok;
    const error = await failure(infer(auth, { ...request, raw_input_contents: [Buffer.alloc(100 * 1024)] }));
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('REQUEST_TIMEOUT_MS passing in the queue is DEADLINE_EXCEEDED', async () => {
    behaviour = async () => {
      throw new GatewayTimeout('The request waited 30000 ms (REQUEST_TIMEOUT_MS).');
    };
    expect((await failure(infer())).code).toBe(status.DEADLINE_EXCEEDED);
  });

  it("the client's own deadline passing while the model runs is DEADLINE_EXCEEDED", async () => {
    behaviour = (inputs) => new Promise((resolve) => setTimeout(() => resolve(inputs.map(() => new Float32Array(10))), 500));
    expect((await failure(infer({ ...auth, deadlineMs: 100 }))).code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('an unexpected failure is INTERNAL, without its message', async () => {
    behaviour = async () => {
      throw new Error('/opt/secret/model.json: boom');
    };
    const error = await failure(infer());
    expect(error.code).toBe(status.INTERNAL);
    expect(error.details).not.toMatch(/secret/);
  });
});

describe('draining (shutdown)', () => {
  afterEach(() => {
    context.lifecycle.draining = false;
  });

  it('new calls are UNAVAILABLE while the probes say not ready', async () => {
    behaviour = ok;
    context.lifecycle.draining = true;
    const error = await failure(infer());
    expect([error.code, error.details]).toEqual([status.UNAVAILABLE, expect.stringMatching(/shutting down/)]);
    expect(await call(clients.inference, 'ServerReady', {})).toEqual({ ready: false });
    expect(await call(clients.health, 'Check', { service: '' })).toEqual({ status: 'NOT_SERVING' });
  });
});

describe('graceful stop', () => {
  it('finishes the calls in flight, then refuses new connections', async () => {
    const other = await startGrpcServer(context, { port: 0, host: '127.0.0.1', maxMessageBytes: 64 * 1024 });
    const otherClients = grpcClients(other.port);
    behaviour = (inputs) => new Promise((resolve) => setTimeout(() => resolve(inputs.map(() => new Float32Array(10).fill(0.5))), 300));
    const inFlight = call(otherClients.inference, 'ModelInfer', request, auth);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const drained = other.drain(5000);
    await expect(inFlight).resolves.toMatchObject({ model_name: 'mnist' });
    await expect(drained).resolves.toBe(true);
    const after = await failure(call(otherClients.inference, 'ServerLive', {}, { deadlineMs: 1000 }));
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(after.code);
    otherClients.close();
  });
});
