import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DataConfig } from './config';
import { ConfigError } from './yaml-config';
import { CsvError, parseCsv } from './csv';
import type { DataSource, Example, Fingerprint } from './dataset';
import { filesFingerprint, listingFingerprint, sha256Text } from './fingerprint';
import { imageFileLoader } from './prepare';

/**
 * Multi-label data as in the seed FastAPI tutorial: a CSV with one row per image, a column naming
 * the image (`image_name_col`, resolved against `images_base_path`, `image_extension` appended
 * when the name has none) and one 0/1 column per target (`targets`, in output order). Other
 * columns are ignored. Only the rows are held; images are decoded batch by batch.
 */

const TRUE = new Set(['1', '1.0', 'true', 'True', 'TRUE']);
const FALSE = new Set(['0', '0.0', 'false', 'False', 'FALSE']);

interface CsvExamples {
  examples: Example[];
  files: string[];
}

function readCsvExamples(config: DataConfig, key: 'csv_path' | 'test_path', csvFile: string): CsvExamples {
  const targets = config.targets!;
  const nameCol = config.image_name_col!;
  let rows;
  try {
    rows = parseCsv(readFileSync(csvFile, 'utf8'));
  } catch (e) {
    if (e instanceof CsvError) throw new ConfigError(config.file, key, `${csvFile}: ${e.message}`);
    throw e;
  }
  const header = rows.shift();
  if (!header) throw new ConfigError(config.file, key, `${csvFile} is empty; expected a header row and one row per image`);
  const columns = header.fields.map((f) => f.trim());
  const column = (name: string, what: string) => {
    const at = columns.indexOf(name);
    if (at < 0) throw new ConfigError(config.file, what, `${JSON.stringify(name)} is not a column of ${csvFile} (columns: ${columns.join(', ')})`);
    return at;
  };
  const nameAt = column(nameCol, 'image_name_col');
  const targetAt = targets.map((t, k) => column(t, `targets[${k}]`));
  const examples: Example[] = [];
  const files: string[] = [];
  const missing: string[] = [];
  for (const row of rows) {
    if (row.fields.length !== columns.length) {
      throw new ConfigError(config.file, key, `${csvFile}: line ${row.line} has ${row.fields.length} fields, the header ${columns.length}`);
    }
    const name = row.fields[nameAt]!.trim();
    if (name === '') throw new ConfigError(config.file, key, `${csvFile}: line ${row.line}: column ${nameCol} is empty`);
    const values = new Float32Array(targets.length);
    targetAt.forEach((at, k) => {
      const v = row.fields[at]!.trim();
      if (TRUE.has(v)) values[k] = 1;
      else if (!FALSE.has(v)) throw new ConfigError(config.file, key, `${csvFile}: line ${row.line}, column ${targets[k]}: ${JSON.stringify(v)} is not 0 or 1`);
    });
    const withExtension = path.extname(name) === '' && config.image_extension ? `${name}${config.image_extension}` : name;
    const file = path.resolve(config.images_base_path!, withExtension);
    if (!existsSync(file)) {
      missing.push(`line ${row.line}: ${file}`);
      continue;
    }
    examples.push({ id: path.relative(config.images_base_path!, file).split(path.sep).join('/'), label: -1, targets: values });
    files.push(file);
  }
  if (missing.length > 0) {
    throw new ConfigError(
      config.file,
      'images_base_path',
      `${missing.length} image(s) named in ${csvFile} do not exist: ${missing.slice(0, 5).join('; ')}${missing.length > 5 ? '; ...' : ''}` +
        (config.image_extension === undefined && missing.every((m) => path.extname(m) === '') ? ' (set image_extension if the names have none)' : ''),
    );
  }
  if (examples.length === 0) throw new ConfigError(config.file, key, `${csvFile} has no image rows`);
  return { examples, files };
}

export function openCsvSource(config: DataConfig): DataSource {
  const csvFile = config.csv_path!;
  const main = readCsvExamples(config, 'csv_path', csvFile);
  const test = config.test_path ? readCsvExamples(config, 'test_path', config.test_path) : undefined;
  const labels = config.targets!;
  if (labels.length < 1) throw new ConfigError(config.file, 'targets', 'needs at least one column');

  return {
    kind: 'csv',
    task: 'multi',
    labels,
    examples: main.examples,
    ...(test ? { testExamples: test.examples } : {}),
    description: `CSV ${csvFile} (${main.examples.length} images, ${labels.length} targets) with images in ${config.images_base_path}${
      test ? `; test CSV ${config.test_path} (${test.examples.length})` : ''
    }`,
    loader: imageFileLoader(main, test),
    async fingerprint(): Promise<Fingerprint> {
      const csvs: Record<string, string> = { [path.basename(csvFile)]: csvFile };
      if (config.test_path) csvs[`test:${path.basename(config.test_path)}`] = config.test_path;
      const tables = await filesFingerprint(csvs);
      const images = await listingFingerprint(config.images_base_path!, [...main.files, ...(test?.files ?? [])]);
      return {
        sha256: sha256Text(`csv\t${tables.sha256}\nimages\t${images.sha256}\n`),
        method: `sha256 of "csv\\t<sha256 of the CSV file(s)>\\nimages\\t<sha256 of the image listing>\\n"; the image listing: ${images.method}`,
        files: tables.files + images.files,
        bytes: tables.bytes + images.bytes,
        parts: { ...tables.parts, images: images.sha256 },
      };
    },
  };
}
