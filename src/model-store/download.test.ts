import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type LocalServer, localServer, sha256, tempDir } from '../../test/support/model-source';
import { HashMismatch, download, downloadVerified, sha256OfFile } from './download';

const body = Buffer.alloc(100_000, 7);
const limits = { timeoutMs: 5_000, maxBytes: 1_000_000 };
let server: LocalServer;
let tmp: ReturnType<typeof tempDir>;
let held: Array<() => void>;

beforeAll(async () => {
  server = await localServer({
    '/file.bin': body,
    // No Content-Length (chunked): only the running count can stop it.
    '/chunked.bin': (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(body);
      res.end();
    },
    // Headers, then never the body.
    '/stall.bin': (_req, res) => {
      res.writeHead(200, { 'content-length': 10 });
      res.write('x');
      held.push(() => res.end());
    },
    // Never answers at all.
    '/silent.bin': (_req, res) => held.push(() => res.end()),
  });
});
afterAll(() => server.close());
beforeEach(() => {
  tmp = tempDir('specserve-download-');
  held = [];
});
afterEach(() => {
  held.forEach((release) => release());
  tmp.cleanUp();
});

describe('download', () => {
  it('streams to the file and hashes on the way', async () => {
    const file = path.join(tmp.dir, 'a.bin');
    const got = await download(`${server.origin}/file.bin`, file, limits);
    expect(got).toEqual({ file, sha256: sha256(body), bytes: body.length });
    expect(readFileSync(file).equals(body)).toBe(true);
    expect(await sha256OfFile(file)).toBe(sha256(body));
  });

  it('refuses a Content-Length over the cap before reading the body', async () => {
    await expect(download(`${server.origin}/file.bin`, path.join(tmp.dir, 'a.bin'), { ...limits, maxBytes: 1000 })).rejects.toThrow(
      `download ${server.origin}/file.bin: Content-Length 100000 bytes is over the 1000-byte limit (DOWNLOAD_MAX_BYTES)`,
    );
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it('aborts a body without Content-Length once the running count passes the cap, and deletes the part', async () => {
    await expect(download(`${server.origin}/chunked.bin`, path.join(tmp.dir, 'a.bin'), { ...limits, maxBytes: 250_000 })).rejects.toThrow(
      /chunked\.bin: more than the 250000-byte limit \(DOWNLOAD_MAX_BYTES\); aborted/,
    );
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it('times out on a server that never answers, and on one that stalls mid-body', async () => {
    await expect(download(`${server.origin}/silent.bin`, path.join(tmp.dir, 'a.bin'), { ...limits, timeoutMs: 200 })).rejects.toThrow(
      /silent\.bin: timed out after 200 ms \(DOWNLOAD_TIMEOUT_MS\)/,
    );
    await expect(download(`${server.origin}/stall.bin`, path.join(tmp.dir, 'b.bin'), { ...limits, timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it('says the HTTP status, and why a connection failed', async () => {
    await expect(download(`${server.origin}/missing.bin`, path.join(tmp.dir, 'a.bin'), limits)).rejects.toThrow(/missing\.bin: HTTP 404 Not Found/);
    const closed = await localServer();
    await closed.close();
    await expect(download(`${closed.origin}/x.bin`, path.join(tmp.dir, 'a.bin'), limits)).rejects.toThrow(/x\.bin: fetch failed \(.*ECONNREFUSED/);
  });
});

describe('downloadVerified', () => {
  it('puts the file in place only when the hash matches', async () => {
    const dest = path.join(tmp.dir, 'ok.bin');
    await downloadVerified(`${server.origin}/file.bin`, dest, sha256(body).toUpperCase(), limits);
    expect(readdirSync(tmp.dir)).toEqual(['ok.bin']);
  });

  it('deletes a mismatching download and says expected, actual and the URL', async () => {
    const wrong = '0'.repeat(64);
    const attempt = downloadVerified(`${server.origin}/file.bin`, path.join(tmp.dir, 'bad.bin'), wrong, limits);
    await expect(attempt).rejects.toThrow(HashMismatch);
    await expect(downloadVerified(`${server.origin}/file.bin`, path.join(tmp.dir, 'bad.bin'), wrong, limits)).rejects.toThrow(
      `sha256 mismatch for ${server.origin}/file.bin: expected ${wrong}, got ${sha256(body)}`,
    );
    expect(existsSync(path.join(tmp.dir, 'bad.bin'))).toBe(false);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});
