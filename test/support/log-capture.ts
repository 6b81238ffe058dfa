import { configureLogging, type LogLevel } from '../../src/log';

export type LogLine = Record<string, unknown>;

/** The log lines written since `captureLogs` was called, parsed. */
export interface CapturedLogs {
  readonly lines: LogLine[];
  /** The lines matching `where`, waiting briefly for them: a request's line is written when its response finishes. */
  find(where: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine[]>;
  /** Everything written, as text, to assert what never appears. */
  text(): string;
}

/**
 * Points the process-wide logger at memory, as JSON, for the rest of the test file (each jest test
 * file has its own module registry, so other files keep their logger). Call it at the top level
 * of a test file, before `useTestService`.
 */
export function captureLogs(level: LogLevel = 'debug'): CapturedLogs {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  configureLogging({
    level,
    format: 'json',
    destination: {
      write(chunk: string) {
        raw.push(chunk);
        for (const text of chunk.split('\n').filter(Boolean)) lines.push(JSON.parse(text) as LogLine);
      },
    },
  });
  return {
    lines,
    async find(where, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.filter(where);
        if (found.length > 0 || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    text: () => raw.join(''),
  };
}
