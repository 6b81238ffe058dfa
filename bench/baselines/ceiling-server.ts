/**
 * Yardstick: the HTTP ceiling. A bare `node:http` server that reads each request's whole body
 * (the multipart upload, buffered as multer's memory storage would, but not parsed) and answers
 * one fixed JSON of the same shape and about the same size as specserve's POST /mnist/classify.
 * No decoding, no model: what one Node process can do for this request/response pair on this
 * machine, against the same client.
 *
 * Env: PORT (default 5002), HOST (default 127.0.0.1). GET /v2/health/ready answers 200.
 */
import { createServer } from 'node:http';

// specserve's real answer for test/fixtures/mnist/7.png (full float precision), so the response bytes match.
const ANSWER = Buffer.from(
  JSON.stringify({
    digit: 7,
    confidence: 0.9992794394493103,
    probabilities: [
      6.412316793102946e-7, 0.00006059496445232071, 0.000009093374501389917, 0.000006696516265947139, 0.00001552603680465836,
      1.3089102424146404e-7, 3.5253329144779855e-9, 0.9992794394493103, 3.2315814024741485e-8, 0.0006278472719714046,
    ],
    model: { name: 'mnist', version: 1 },
  }),
);
const READY = Buffer.from(JSON.stringify({ ready: true }));

const port = Number(process.env.PORT ?? 5002);
const host = process.env.HOST ?? '127.0.0.1';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks); // the whole upload in memory, as the real servers hold it
    const body = req.method === 'GET' && req.url === '/v2/health/ready' ? READY : ANSWER;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});

server.listen(port, host, () => console.error(JSON.stringify({ msg: 'ceiling server ready', url: `http://${host}:${port}` })));
server.on('error', (e) => {
  console.error(`ceiling server cannot listen on ${host}:${port}: ${e.message}`);
  process.exit(1);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
