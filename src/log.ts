/**
 * Minimal structured logging: one JSON object per line on stderr, so logs stay machine-readable
 * and stdout stays free. `LOG_LEVEL` (debug|info|warn|error|silent) filters; default info.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function threshold(): number {
  const wanted = (process.env.LOG_LEVEL ?? 'info') as Level | 'silent';
  return RANK[wanted] ?? RANK.info;
}

function write(level: Level, msg: string, fields: Record<string, unknown>): void {
  if (RANK[level] < threshold()) return;
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

export const log = {
  debug: (msg: string, fields: Record<string, unknown> = {}) => write('debug', msg, fields),
  info: (msg: string, fields: Record<string, unknown> = {}) => write('info', msg, fields),
  warn: (msg: string, fields: Record<string, unknown> = {}) => write('warn', msg, fields),
  error: (msg: string, fields: Record<string, unknown> = {}) => write('error', msg, fields),
};
