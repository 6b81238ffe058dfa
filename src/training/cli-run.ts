/**
 * Runs a script's main() (the fixture makers: multilabel-fixtures.ts, make-composite-csv.ts) on
 * the process arguments; an error prints its stack and exits 1.
 */
export function runCli(main: (argv: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
