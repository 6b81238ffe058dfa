import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDigitFolder, makeMnistIdx } from '../training/tiny-datasets';
import type { CliIo } from './command';
import { EVALUATE_USAGE } from './evaluate';
import { main } from './main';
import { TRAIN_USAGE } from './train';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'specserve-cli-train-'));
let dataYaml: string;
let trainYaml: string;

function yaml(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

/** Runs the CLI in-process; `onStderr` sees each chunk written to stderr. */
async function run(argv: string[], onStderr?: (text: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => {
      stderr += t;
      onStderr?.(t);
    },
    env: { TFJS_BACKEND: 'wasm', MODEL_STORE: path.join(tmp, 'default-store') },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  await makeDigitFolder(path.join(tmp, 'digits'), [0, 1, 2], 12);
  dataYaml = yaml('data.yaml', 'source: folder\nimages_base_path: digits\npreprocessing: {recipe: mnist-digit}\nvalidation_split: 0.2\ntest_split: 0.25\nseed: 11\n');
  trainYaml = yaml('train.yaml', 'epochs: 3\nbatch_size: 16\ninitial_learning_rate: 0.003\nmodel_path: store/digits\nmodel: {conv_filters: [8], dense_units: 16, dropout: 0}\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('specserve train / evaluate: arguments and configs', () => {
  it('are listed in --help and print their usage', async () => {
    const help = await run(['--help']);
    expect(help.stdout).toMatch(/train +train a model from a training config/);
    expect(help.stdout).toMatch(/evaluate +score a store model/);
    expect(await run(['train', '--help'])).toEqual({ code: 0, stdout: TRAIN_USAGE, stderr: '' });
    expect(await run(['evaluate', '--help'])).toEqual({ code: 0, stdout: EVALUATE_USAGE, stderr: '' });
  });

  it.each([
    [['train'], 'specserve train: CONFIG is required (e.g. training/mnist.yaml), or --data-config and --train-config'],
    [['train', 'a.yaml', 'b.yaml'], 'specserve train: one CONFIG expected, got 2 (a.yaml b.yaml)'],
    [['train', 'a.yaml', '--data-config', 'd.yaml'], 'specserve train: give CONFIG or --data-config and --train-config, not both'],
    [['train', '--data-config', 'd.yaml'], 'specserve train: --train-config is required'],
    [['train', '--data-config', 'd.yaml', '--train-config', 't.yaml', '--version', 'x'], 'specserve train: --version "x": expected a whole number'],
    [['train', '--data-config', 'd.yaml', '--epochs', '3'], "specserve train: Unknown option '--epochs'"],
    [['evaluate', '--data-config', 'd.yaml'], 'specserve evaluate: the model is missing'],
    [['evaluate', 'digits', '--data-config', 'd.yaml', '--split', 'train'], 'specserve evaluate: --split "train": expected test, validation or all'],
  ])('%j: exit 2 with the reason and the usage', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain(`usage: specserve ${argv[0]}`);
  });

  it('a config problem: exit 1, naming the file and the key', async () => {
    const bad = yaml('bad-train.yaml', 'epochs: 3\nbatch_sise: 16\n');
    const { code, stderr } = await run(['train', '--data-config', dataYaml, '--train-config', bad, '--name', 'x']);
    expect(code).toBe(1);
    expect(stderr).toContain(`specserve train: ${bad}: batch_sise: unknown key (known here: epochs, batch_size,`);
    const noName = yaml('no-name.yaml', 'epochs: 1\n');
    expect((await run(['train', '--data-config', dataYaml, '--train-config', noName])).stderr).toContain('--name is required (or model_path in the training config)');
  });

  it('evaluate on a model the store does not have: exit 1 saying so, without the usage', async () => {
    const { code, stderr } = await run(['evaluate', 'nosuchmodel', '--data-config', dataYaml]);
    expect(code).toBe(1);
    expect(stderr).toBe(`specserve evaluate: no model "nosuchmodel" in the store ${path.join(tmp, 'default-store')}\n`);
  });
});

describe('specserve train -> evaluate', () => {
  it('trains into <model_path>/1, prints the result; evaluate prints the model card\'s test metrics', async () => {
    const trained = await run(['train', '--data-config', dataYaml, '--train-config', trainYaml]);
    const dir = path.join(tmp, 'store', 'digits', '1');
    expect(trained.code).toBe(0);
    expect(trained.stdout).toContain(`digits/1: saved ${dir}\n  validation: accuracy `);
    expect(trained.stdout).toContain('  test: accuracy ');
    expect(trained.stderr).toContain('backend: wasm (tfjs 4.22.0)');
    expect(trained.stderr).toMatch(/train epoch 3\/3 {2}lr/);
    expect(trained.stderr).not.toContain('\x1b['); // not a terminal: no progress bar

    const evaluated = await run(['evaluate', 'digits', '--data-config', dataYaml, '--store', path.join(tmp, 'store')]);
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toContain(`## digits:1 (${dir})`);
    const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
    const testSection = card.slice(card.indexOf('### Test'), card.indexOf('![test confusion matrix]'));
    expect(evaluated.stdout).toContain(testSection.trim());
    const json = await run(['evaluate', 'digits:1', '--data-config', dataYaml, '--store', path.join(tmp, 'store'), '--split', 'validation', '--json']);
    const meta = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
    expect(JSON.parse(json.stdout).report).toEqual(meta.training.validation);
  });

  it('Ctrl-C during training: stops, saves the best model so far, exits 130', async () => {
    const store = path.join(tmp, 'store-sigint');
    const long = yaml('long.yaml', 'epochs: 50\nearly_stopping_patience: 0\nbatch_size: 16\nmodel: {conv_filters: [8], dense_units: 16, dropout: 0}\n');
    let sent = false;
    const result = await run(['train', '--data-config', dataYaml, '--train-config', long, '--name', 'stopped', '--store', store], (text) => {
      if (!sent && text.includes('train epoch 1/50')) {
        sent = true;
        process.emit('SIGINT');
      }
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Ctrl-C: stopping after this batch, then saving the best model so far');
    expect(result.stderr).not.toContain('train epoch 3/50');
    expect(result.stdout).toContain('stopped/1: saved');
    expect(result.stdout).toContain('(interrupted: best weights so far)');
    expect(existsSync(path.join(store, 'stopped', '1', 'MODEL_CARD.md'))).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('a real SIGINT reaches a program training on IDX data (no file reads between batches)', async () => {
    const idx = makeMnistIdx(path.join(tmp, 'idx'), 60);
    const data = yaml('idx-data.yaml', `source: idx\nidx: {train_images: ${idx.images}, train_labels: ${idx.labels}}\npreprocessing: {recipe: mnist-digit}\nvalidation_split: 0.2\ntest_split: 0\n`);
    const long = yaml('idx-long.yaml', 'epochs: 500\nearly_stopping_patience: 0\nbatch_size: 16\nmodel: {conv_filters: [4], dense_units: 8, dropout: 0}\n');
    const store = path.join(tmp, 'store-signal');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'main.ts'), 'train', '--data-config', data, '--train-config', long, '--name', 'signalled', '--store', store],
      { env: { ...process.env, TFJS_BACKEND: 'wasm' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('train epoch 2/500') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stdout }).toEqual({ code: 130, stdout: expect.stringContaining('signalled/1: saved') });
    expect(stderr).toContain('Ctrl-C: stopping after this batch');
    expect(stderr).not.toContain('epoch 500/500');
    expect(existsSync(path.join(store, 'signalled', '1', 'metadata.json'))).toBe(true);
  });
});
