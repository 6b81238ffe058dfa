import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { startService } from '../../src/bootstrap';
import { loadConfig } from '../../src/config';
import { HANDLERS_DIR, SPEC_FILE } from '../../src/paths';
import { expectProblem } from '../support/problem';
import { fixture } from '../support/service';

// The contract tests rely on response validation: prove that a response the document does not
// allow is caught (as a 500) rather than sent.
it('a response that breaks the spec becomes a 500 problem when response validation is on', async () => {
  const spec = path.join(mkdtempSync(path.join(os.tmpdir(), 'specserve-spec-')), 'models.yaml');
  const original = readFileSync(SPEC_FILE, 'utf8');
  const stricter = original.replace('required: [digit, confidence, probabilities, model]', 'required: [digit, confidence, probabilities, model, explanation]');
  expect(stricter).not.toBe(original);
  writeFileSync(spec, stricter);
  const service = await startService({ ...loadConfig({}), validateResponses: true }, spec, HANDLERS_DIR);
  try {
    const res = await supertest(service.app).post('/mnist/classify').attach('file', fixture('mnist', '7.png'), '7.png');
    expectProblem(res, 500);
  } finally {
    await service.close();
  }
});
