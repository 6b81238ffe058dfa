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
export async function startTestService(overrides: Partial<Config> = {}): Promise<Service & { request: supertest.Agent }> {
  const service = await startService({ ...loadConfig({}), validateResponses: true, pollSeconds: 0, ...overrides });
  return { ...service, request: supertest.agent(service.app) };
}
