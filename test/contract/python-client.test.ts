import { execFile, execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, useTestService } from '../support/service';

const CLIENT = path.join(__dirname, '..', 'clients', 'keras_rest_client.py');

/** The tutorial's client needs python3 with `requests`; without them this file says so and skips. */
function pythonWithRequests(): boolean {
  try {
    execFileSync('python3', ['-c', 'import requests'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const service = useTestService();
let server: Server;
let base: string;

beforeAll(async () => {
  server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

(pythonWithRequests() ? describe : describe.skip)('the Keras REST API tutorial client (python requests)', () => {
  it('prints the five predictions with beagle first for dog.jpg', async () => {
    const { stdout } = await promisify(execFile)('python3', [CLIENT, `${base}/predict`, path.join(FIXTURES, 'photos', 'dog.jpg')]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^1\. beagle: 0\.\d{4}$/);
  });

  it('prints "Request failed" for bytes that are not an image', async () => {
    const { stdout } = await promisify(execFile)('python3', [CLIENT, `${base}/predict`, path.join(FIXTURES, 'SOURCES.md')]);
    expect(stdout.trim()).toBe('Request failed');
  });
});
