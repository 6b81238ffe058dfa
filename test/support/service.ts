import { readFileSync } from 'node:fs';
import path from 'node:path';
import supertest from 'supertest';
import { startService, type Service } from '../../src/bootstrap';
import { type Config, loadConfig } from '../../src/config';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');

export function fixture(...parts: string[]): Buffer {
  return readFileSync(path.join(FIXTURES, ...parts));
}

/**
 * The real app on the shipped model store, with response validation on: every response a test
 * sees has been checked against api/models.yaml.
 */
/** WORKERS for tests: TEST_WORKERS, else 1 (each suite starts its own pool; the suites run in parallel). */
const TEST_WORKERS = Number(process.env.TEST_WORKERS ?? 1);

export async function startTestService(overrides: Partial<Config> = {}): Promise<Service & { request: supertest.Agent }> {
  // IMAGE_DECODER passes through: CI runs the image suites a second time with IMAGE_DECODER=jimp.
  const service = await startService({ ...loadConfig({ IMAGE_DECODER: process.env.IMAGE_DECODER }), validateResponses: true, pollSeconds: 0, workers: TEST_WORKERS, ...overrides });
  return { ...service, request: supertest.agent(service.app) };
}

export type TestService = Service & { request: supertest.Agent };

/**
 * One service for a whole test file: started before its tests, released after them. The returned
 * object reads through to the running service, so tests write `service.request.get(...)`.
 */
export function useTestService(overrides: Partial<Config> = {}): TestService {
  let current: TestService | undefined;
  beforeAll(async () => {
    current = await startTestService(overrides);
  });
  afterAll(() => current?.close());
  const running = (): TestService => {
    if (!current) throw new Error('the test service is used outside a test (before beforeAll ran)');
    return current;
  };
  return {
    get app() {
      return running().app;
    },
    get models() {
      return running().models;
    },
    get backend() {
      return running().backend;
    },
    get pool() {
      return running().pool;
    },
    get registry() {
      return running().registry;
    },
    get lifecycle() {
      return running().lifecycle;
    },
    get loaded() {
      return running().loaded;
    },
    get rpc() {
      return running().rpc;
    },
    close: () => running().close(),
    get request() {
      return running().request;
    },
  };
}
