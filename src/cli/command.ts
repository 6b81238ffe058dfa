import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a subcommand gets from the process: its output streams and environment (tests pass their own). */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

/** One `specserve <name>` subcommand. `run` returns the exit code; a UsageError means exit 2. */
export interface Command {
  /** One line for `specserve --help`. */
  summary: string;
  /** Printed for `specserve <name> --help` and after a usage error. */
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** The arguments were wrong: the message says which, and the usage is printed after it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** node:util's parseArgs (callers pass `strict: true`) with its errors (unknown option, missing value...) as UsageErrors. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
