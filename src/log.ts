import { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import pino, { type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { currentRequestContext } from './api/request-context';

/**
 * Structured logging with pino: one JSON object per line on stderr (stdout stays free), or
 * pino-pretty's human-readable lines when stderr is a terminal. The small `log` API below is what
 * the rest of the code calls; `configureLogging` (server.ts, from the validated Config) picks the
 * level, the format and, for tests, the destination.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggingOptions {
  level: LogLevel;
  /** Undefined: pretty when stderr is a terminal, else JSON. */
  format?: LogFormat | undefined;
  /** Where lines go; default stderr. Tests pass a stream that collects them. */
  destination?: DestinationStream | undefined;
  /** The serving thread (src/serving) whose lines these are, when the process has several. */
  thread?: number | undefined;
}

/** Credentials that must never reach a log line, wherever a request or its headers get logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
];

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** pino-pretty pipes into a real stream; a destination may be any object with write(). */
function asWritable(destination: DestinationStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      destination.write(chunk.toString());
      done();
    },
  });
}

/** A string field as it reads; anything else as JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function createLogger({ level, format, destination, thread }: LoggingOptions): Logger {
  // Auto: pretty only for a person watching stderr, never for a stream a test or a collector reads.
  // isatty(2), not process.stderr.isTTY: inference worker threads log too, and their process.stderr is a pipe.
  const pretty = format === undefined ? destination === undefined && isatty(2) : format === 'pretty';
  const options: pino.LoggerOptions = {
    level,
    // No pid/hostname: the container runtime knows them; lines stay short.
    base: thread === undefined ? undefined : { thread },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: greppable and what the previous logger wrote.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  // Both destinations write synchronously: a line logged just before process.exit() is not lost,
  // and no worker thread (pino transports) is needed.
  const stream: DestinationStream = pretty
    ? pinoPretty({
        destination: destination ? asWritable(destination) : 2,
        sync: true,
        colorize: destination === undefined && isatty(2),
        translateTime: 'SYS:HH:MM:ss.l',
        // A person reads these: a multi-line message (every bad setting, every model that failed)
        // shows as lines, not as one JSON string with escaped newlines.
        customPrettifiers: { error: asText, detail: asText },
      })
    : (destination ?? pino.destination({ dest: 2, sync: true }));
  return pino(options, stream);
}

/**
 * Until configureLogging runs, and in inference worker threads (which never call it), LOG_LEVEL
 * and LOG_FORMAT are read leniently here; config.ts is where a bad value is refused.
 */
function optionsFromEnv(): LoggingOptions {
  const level = process.env.LOG_LEVEL?.trim().toLowerCase() ?? '';
  const format = process.env.LOG_FORMAT?.trim().toLowerCase() ?? '';
  return { level: isLogLevel(level) ? level : 'info', format: (LOG_FORMATS as readonly string[]).includes(format) ? (format as LogFormat) : undefined };
}

let root: Logger = createLogger(optionsFromEnv());

/** Replaces the process-wide logger; returns it. The request logger follows (request-log.ts). */
export function configureLogging(options: LoggingOptions): Logger {
  root = createLogger(options);
  return root;
}

/** The current process-wide pino logger. */
export function rootLogger(): Logger {
  return root;
}

type Fields = Record<string, unknown>;

function write(level: Exclude<LogLevel, 'silent'>, msg: string, fields: Fields): void {
  // Lines logged while serving a request carry its id, so they can be joined to its request line.
  const requestId = currentRequestContext()?.requestId;
  root[level](requestId === undefined ? fields : { reqId: requestId, ...fields }, msg);
}

/** The logging API of the code base: a message and flat fields. */
export const log = {
  debug: (msg: string, fields: Fields = {}) => write('debug', msg, fields),
  info: (msg: string, fields: Fields = {}) => write('info', msg, fields),
  warn: (msg: string, fields: Fields = {}) => write('warn', msg, fields),
  error: (msg: string, fields: Fields = {}) => write('error', msg, fields),
};
