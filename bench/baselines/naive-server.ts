/**
 * Yardstick: the server a user would write by hand. Express + multer (memory storage) + jimp +
 * TensorFlow.js, one process, ONE predict per request, no queue, no batching, no spec validation.
 * Same route, multipart field (`file`) and 200 JSON shape as specserve's POST /mnist/classify,
 * serving the same model (model-store/mnist/1); GET /v2/health/ready answers 200 once it listens.
 *
 * Deliberate choice: the model files are read with specserve's `readLayersModelFiles`, the backend is
 * chosen by specserve's `initBackend` (same TFJS_BACKEND rule), and the image goes through
 * specserve's own MNIST preprocessing (`prepareInput` from src/images, jimp's decoders inside).
 * A hand-written server would preprocess differently (and usually worse); sharing it makes the
 * comparison about the serving engine, not about preprocessing.
 *
 * Env: PORT (default 5001), HOST (default 127.0.0.1), MODEL_DIR (default model-store/mnist/1),
 * TFJS_BACKEND.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import express from 'express';
import multer from 'multer';
import { parseBackendName } from '../../src/config';
import { DEFAULT_IMAGE_LIMITS, prepareInput } from '../../src/images';
import { initBackend } from '../../src/inference/backend';
import { readLayersModelFiles } from '../../src/model-store/files';
import { DEFAULT_MODEL_STORE } from '../../src/paths';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 5001);
  const host = process.env.HOST ?? '127.0.0.1';
  const dir = path.resolve(process.env.MODEL_DIR ?? path.join(DEFAULT_MODEL_STORE, 'mnist', '1'));
  const version = Number(path.basename(dir));

  const backend = await initBackend(parseBackendName(process.env.TFJS_BACKEND));
  const { metadata, artifacts } = await readLayersModelFiles(dir);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const shape = [1, ...metadata.input.shape];
  tf.tidy(() => model.predict(tf.zeros(shape))); // first predict compiles the kernels

  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 10 * 1024 * 1024 } });
  const app = express();

  app.post('/mnist/classify', upload.single('file'), async (req, res) => {
    if (!req.file) {
      res.status(400).json({ error: "Send the image in multipart field 'file'." });
      return;
    }
    try {
      const input = await prepareInput(req.file.buffer, metadata, DEFAULT_IMAGE_LIMITS);
      const output = tf.tidy(() => model.predict(tf.tensor(input, shape, 'float32')) as tf.Tensor);
      const scores = Array.from(await output.data());
      output.dispose();
      const probabilities = scores.map((p) => Math.min(1, Math.max(0, p)));
      const digit = probabilities.indexOf(Math.max(...probabilities));
      res.json({ digit: Number(metadata.labels[digit]), confidence: probabilities[digit], probabilities, model: { name: 'mnist', version } });
    } catch (e) {
      res.status(500).json({ error: e instanceof Error ? e.message : String(e) });
    }
  });
  app.get('/v2/health/ready', (_req, res) => {
    res.json({ ready: true });
  });

  const server = app.listen(port, host, () => {
    console.error(JSON.stringify({ msg: 'naive server ready', url: `http://${host}:${port}`, backend, model: `mnist:${version}` }));
  });
  server.on('error', (e) => {
    console.error(`naive server cannot listen on ${host}:${port}: ${e.message}`);
    process.exit(1);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((e: unknown) => {
  console.error(`naive server failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
