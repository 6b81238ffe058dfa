import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { DEFAULT_MODEL_STORE } from '../../src/paths';

/** The shipped mnist version the remote-source tests publish. */
export const MNIST_DIR = path.join(DEFAULT_MODEL_STORE, 'mnist', '1');
export const MNIST_FILES = ['model.json', 'group1-shard1of2.bin', 'group1-shard2of2.bin', 'metadata.json'];

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A temp folder removed by `cleanUp` (call it from afterAll/afterEach). */
export function tempDir(prefix: string): { dir: string; cleanUp: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanUp: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A .tar.gz of the mnist version (`files`, default all), made with the tar package: at the top,
 * or inside `topFolder`. `extra` entries (paths relative to the staging folder, created by `prepare`) are
 * packed with preservePaths, so a test can add `../evil` or absolute entries.
 */
export async function mnistArchive(
  into: string,
  options: { topFolder?: string; files?: string[]; extra?: string[]; prepare?: (staging: string) => void } = {},
): Promise<{ file: string; bytes: Buffer; sha256: string }> {
  const files = options.files ?? MNIST_FILES;
  const staging = mkdtempSync(path.join(into, 'staging-'));
  const content = path.join(staging, 'pkg', options.topFolder ?? '');
  mkdirSync(content, { recursive: true });
  for (const f of files) cpSync(path.join(MNIST_DIR, f), path.join(content, f));
  options.prepare?.(path.join(staging, 'pkg'));
  const file = path.join(into, `mnist-${path.basename(staging)}.tar.gz`);
  const entries = options.topFolder ? [options.topFolder] : files;
  await create({ gzip: true, file, cwd: path.join(staging, 'pkg'), portable: true, preservePaths: true }, [...entries, ...(options.extra ?? [])]);
  rmSync(staging, { recursive: true, force: true });
  const bytes = readFileSync(file);
  return { file, bytes, sha256: sha256(bytes) };
}

/** What a route answers: fixed bytes, or a handler for misbehaving servers. */
export type Route = Buffer | ((req: http.IncomingMessage, res: http.ServerResponse) => void);

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Paths requested, in order. */
  requests: string[];
  routes: Map<string, Route>;
  count(pathname: string): number;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 and a free port: no test reaches outside the machine. */
export async function localServer(routes: Record<string, Route> = {}): Promise<LocalServer> {
  const table = new Map(Object.entries(routes));
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(pathname);
    const route = table.get(pathname);
    if (route === undefined) res.writeHead(404).end('not found');
    else if (Buffer.isBuffer(route)) res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': route.length }).end(route);
    else route(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    count: (pathname) => requests.filter((p) => p === pathname).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The mnist version as loose files for a model.json source: `/<prefix>/model.json` and friends. */
export function mnistFileRoutes(prefix: string): Record<string, Buffer> {
  return Object.fromEntries(MNIST_FILES.map((f) => [`${prefix}/${f}`, readFileSync(path.join(MNIST_DIR, f))]));
}
