import path from 'node:path';
import { loadConfig } from '../config';
import { type DownloadLimits, type Fetch, HashMismatch } from '../model-store/download';
import { type ModelSource, sourceProblems } from '../model-store/model-config';
import { type Materialised, materialiseSource } from '../model-store/remote-source';
import { MODEL_NAME } from '../model-store/repository';
import { type CliIo, type Command, parseCommandArgs, UsageError } from './command';

/**
 * `specserve pull`: makes `<store>/<name>/<version>/` from a URL with the same code the server
 * runs for a config.yaml `source:` (verified download, safe unpack, marker, one rename), then
 * stops. It does not write config.yaml: the folder is then an ordinary version the server loads.
 * If config.yaml names a source for the same version with another sha256, the server puts that
 * one back on its next reconcile; to have the server keep a model in step with a URL, write the
 * `source:` entry (pull prints it).
 */
export interface PullOptions {
  source: ModelSource;
  name: string;
  store: string;
  limits: DownloadLimits;
  fetch?: Fetch;
}

export const PULL_USAGE = `usage: specserve pull <url> --sha256 <hex> --name <model> [--version N] [--store DIR]

  Downloads a TF.js model into <store>/<model>/<N>/ after checking its SHA-256.
  <url>       http(s) URL of a .tar.gz/.tgz archive (model.json, weight files, metadata.json)
              or of a model.json (weights and metadata.json are fetched from its folder)
  --sha256    SHA-256 of the archive, or of model.json (64 hex characters)
  --name      model folder name (letters, digits, _ . -)
  --version   version folder, a whole number from 1 (default 1)
  --store     model store (default: MODEL_STORE, else ./model-store)

  Limits: DOWNLOAD_TIMEOUT_MS, DOWNLOAD_MAX_BYTES. config.yaml is not written.
`;

/** Reads pull's arguments; throws UsageError naming the first thing to fix. */
export function parsePullArgs(args: string[], env: CliIo['env']): PullOptions {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { sha256: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' }, store: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the model URL is missing' : `one URL expected, got ${positionals.length}: ${positionals.join(' ')}`);
  const url = positionals[0]!;
  if (values.sha256 === undefined) throw new UsageError('--sha256 is required (the SHA-256 of the archive or model.json)');
  if (values.name === undefined) throw new UsageError('--name is required (the model folder to write)');
  if (!MODEL_NAME.test(values.name)) throw new UsageError(`--name ${JSON.stringify(values.name)}: expected letters, digits, _ . - (not starting with . _ -)`);
  const version = values.version === undefined ? 1 : Number(values.version);
  if (!/^[1-9][0-9]{0,8}$/.test(values.version ?? '1')) throw new UsageError(`--version ${JSON.stringify(values.version)}: expected a whole number from 1 to 999999999`);
  const problems = sourceProblems({ url, sha256: values.sha256 }, { url: '<url>', sha256: '--sha256' });
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    source: { url, sha256: values.sha256.toLowerCase(), version },
    name: values.name,
    store: values.store === undefined ? config.modelStore : path.resolve(values.store),
    limits: config.download,
  };
}

/** Makes the version folder (or finds it current). Throws with the reason on any failure. */
export function pull(options: PullOptions): Promise<Materialised> {
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  return materialiseSource(options.store, options.name, options.source, { limits: options.limits, ...fetchOption });
}

const HOW: Record<Materialised['how'], string> = {
  current: 'already there (made from this sha256); nothing fetched',
  downloaded: 'downloaded, sha256 verified',
  cached: 'unpacked from the verified copy in .cache/; nothing fetched',
};

export const pullCommand: Command = {
  summary: 'download a model from a URL into the store, checking its SHA-256',
  usage: PULL_USAGE,
  async run(args, io) {
    const options = parsePullArgs(args, io.env);
    const done = await pull(options).catch((e: unknown) => {
      // The download's own message points at config.yaml, where the server's hashes come from; here it was --sha256.
      if (e instanceof HashMismatch) {
        throw new Error(`sha256 mismatch for ${e.url}: --sha256 is ${e.expected}, the file's is ${e.actual}; nothing was written. Check --sha256, or that the URL serves the file you meant.`);
      }
      throw e;
    });
    const { url, sha256, version } = options.source;
    io.stdout(`${options.name}/${version}: ${HOW[done.how]}${done.replaced ? ` (replaced the folder made from ${done.replaced})` : ''}\n  ${done.dir}\n`);
    io.stdout(
      `To have the server keep it in step with the URL, put in ${path.join(options.store, options.name, 'config.yaml')}:\n` +
        `  source:\n    url: ${url}\n    sha256: ${sha256}\n    version: ${version}\n`,
    );
    return 0;
  },
};
