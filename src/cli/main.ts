#!/usr/bin/env node
import { type CliIo, type Command, UsageError } from './command';
import { classifyCommand, explainCommand, modelsCommand } from './client-commands';
import { evaluateCommand } from './evaluate';
import { importCommand } from './import';
import { pullCommand } from './pull';
import { trainCommand } from './train';

/**
 * `specserve <command> [args]`. One row per subcommand.
 * Exit codes: 0 done, 1 the command failed (message on stderr), 2 bad arguments (message and usage).
 */
const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['pull', pullCommand],
  ['import', importCommand],
  ['train', trainCommand],
  ['evaluate', evaluateCommand],
  ['classify', classifyCommand],
  ['models', modelsCommand],
  ['explain', explainCommand],
]);

export function usage(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((n) => n.length));
  const rows = [...COMMANDS].map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: specserve <command> [options]\n\ncommands:\n${rows}\n\nspecserve <command> --help for a command's options.\n`;
}

const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS.get(name);
  if (!command) {
    io.stderr(`${name === undefined ? 'specserve: a command is needed' : `specserve: unknown command '${name}'`}\n\n${usage()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`specserve ${name}: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    io.stderr(`specserve ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
