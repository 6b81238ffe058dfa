import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createSpecserveClient, SpecserveError, type SpecserveClient } from '../../client';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command';

/**
 * `specserve classify | models | explain`: a running server's routes from a terminal, through the
 * typed client (client/). Tables by default, the server's JSON with --json; an error answer
 * prints the problem's detail and exits 1.
 */

const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const CONNECTION_USAGE = `  --url       the server (default: SPECSERVE_URL, else http://localhost:5000)
  --api-key   API key, when the server has API_KEYS (default: SPECSERVE_API_KEY)
  --json      print the server's JSON instead of a table`;

function clientFor(values: { url?: string; 'api-key'?: string }, env: CliIo['env']): { client: SpecserveClient; url: string } {
  const url = values.url ?? env.SPECSERVE_URL ?? 'http://localhost:5000';
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url ${JSON.stringify(url)}: expected http://host:port`);
  return { client: createSpecserveClient({ url, apiKey: values['api-key'] ?? env.SPECSERVE_API_KEY }), url };
}

/** A failed call -> one line a person can act on: the problem's detail, or why the server was not reached. */
function failure(e: unknown, url: string): string {
  if (e instanceof SpecserveError) return `${e.message} (HTTP ${e.status})`;
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause && (e as Error).message === 'fetch failed') return `cannot reach ${url}: ${cause.code ?? cause.message}`;
  return (e as Error).message;
}

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new UsageError(`${option} ${JSON.stringify(value)}: expected a whole number from 1`);
  return Number(value);
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export const CLASSIFY_USAGE = `usage: specserve classify <image...> [--model M] [--top-k K] [--version N] [--url U] [--api-key KEY] [--json]

  Classifies each image with a model of a running server (POST /models/{name}/classify).
  --model     model name (default mnist)
  --top-k     labels per image, best first (default: the server's, 5)
  --version   a version of the model instead of the newest
${CONNECTION_USAGE}
`;

export const classifyCommand: Command = {
  summary: 'classify images with a running server',
  usage: CLASSIFY_USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...CONNECTION_OPTIONS, model: { type: 'string' }, 'top-k': { type: 'string' }, version: { type: 'string' } },
    });
    if (positionals.length === 0) throw new UsageError('at least one image is needed');
    const topK = positiveInteger(values['top-k'], '--top-k');
    const version = positiveInteger(values.version, '--version');
    const model = values.model ?? 'mnist';
    const { client, url } = clientFor(values, io.env);
    const results: unknown[] = [];
    const rows: string[][] = [];
    let failed = 0;
    for (const image of positionals) {
      try {
        const answer = await client.classify(model, image, { topK, version });
        results.push({ image, ...answer });
        answer.predictions.forEach(({ label, score }, rank) => rows.push([rank === 0 ? image : '', `${answer.model.name}:${answer.model.version}`, label, score.toFixed(4)]));
      } catch (e) {
        failed++;
        io.stderr(`specserve classify: ${image}: ${failure(e, url)}\n`);
      }
    }
    if (values.json) io.stdout(JSON.stringify(results, null, 2) + '\n');
    else if (rows.length > 0) io.stdout(table(['image', 'model', 'label', 'score'], rows));
    return failed > 0 ? 1 : 0;
  },
};

export const MODELS_USAGE = `usage: specserve models [--url U] [--api-key KEY] [--json]

  Lists the model versions a running server serves (GET /models).
${CONNECTION_USAGE}
`;

export const modelsCommand: Command = {
  summary: 'list the models of a running server',
  usage: MODELS_USAGE,
  async run(args, io) {
    const { values } = parseCommandArgs({ args, strict: true, options: CONNECTION_OPTIONS });
    const { client, url } = clientFor(values, io.env);
    let models;
    try {
      models = await client.listModels();
    } catch (e) {
      io.stderr(`specserve models: ${failure(e, url)}\n`);
      return 1;
    }
    if (values.json) {
      io.stdout(JSON.stringify(models, null, 2) + '\n');
      return 0;
    }
    const rows = models.map((m) => {
      const engine = (m as { engine?: unknown }).engine; // reported by servers with several engines
      const labels = m.labels.length <= 4 ? m.labels.join(', ') : `${m.labels.slice(0, 3).join(', ')}, ... (${m.labels.length})`;
      return [m.name, String(m.version), typeof engine === 'string' ? engine : '-', `[${m.input.shape.join(', ')}]`, m.output.kind, labels];
    });
    io.stdout(table(['model', 'version', 'engine', 'input', 'output', 'labels'], rows));
    return 0;
  },
};

export const EXPLAIN_USAGE = `usage: specserve explain <image> --model M [--out heat.png] [--patch P] [--stride S] [--version N] [--url U] [--api-key KEY] [--json]

  Explains a model's answer for one image by occlusion sensitivity (POST /models/{name}/explain).
  --model     model name (required)
  --out       write the heatmap PNG there; without it the grid is printed (JSON with --json)
  --patch     side of the occluding square in the model input's pixels (default: the server's)
  --stride    step between patch positions (default: half the patch)
  --version   a version of the model instead of the newest
${CONNECTION_USAGE}
`;

/** The grid as rows of numbers, scaled to 0..9 of its largest drop (a quick look in a terminal). */
function gridPicture(grid: number[][]): string {
  const top = Math.max(...grid.flat(), 1e-9);
  return grid.map((row) => row.map((v) => String(Math.max(0, Math.min(9, Math.round((v / top) * 9))))).join(' ')).join('\n') + '\n';
}

export const explainCommand: Command = {
  summary: 'explain a classification by occlusion sensitivity (heatmap PNG)',
  usage: EXPLAIN_USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...CONNECTION_OPTIONS, model: { type: 'string' }, out: { type: 'string' }, patch: { type: 'string' }, stride: { type: 'string' }, version: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the image is missing' : `one image expected, got ${positionals.length}`);
    if (values.model === undefined) throw new UsageError('--model is required');
    const options = { patch: positiveInteger(values.patch, '--patch'), stride: positiveInteger(values.stride, '--stride'), version: positiveInteger(values.version, '--version') };
    const image = positionals[0]!;
    const { client, url } = clientFor(values, io.env);
    try {
      if (values.out !== undefined) {
        await writeFile(values.out, await client.explainPng(values.model, image, options));
        io.stdout(`heatmap of ${values.model} for ${path.basename(image)} written to ${values.out}\n`);
        return 0;
      }
      const explanation = await client.explain(values.model, image, options);
      if (values.json) {
        io.stdout(JSON.stringify(explanation, null, 2) + '\n');
        return 0;
      }
      const { class: top, grid, patch, stride, model } = explanation;
      io.stdout(`${path.basename(image)}: ${model.name}:${model.version} says '${top.label}' (${top.score.toFixed(4)}); drop of its score with a ${patch}px patch every ${stride}px (0-9):\n`);
      io.stdout(gridPicture(grid));
      return 0;
    } catch (e) {
      io.stderr(`specserve explain: ${failure(e, url)}\n`);
      return 1;
    }
  },
};
