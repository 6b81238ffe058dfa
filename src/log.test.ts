import { createRequestContext, runInRequestContext } from './api/request-context';
import { configureLogging, createLogger, log, type LoggingOptions, rootLogger } from './log';

/** A destination that keeps what it is given. */
function memory(): { write(chunk: string): void; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  return {
    write: (chunk) => void chunks.push(chunk),
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function capture(options: Omit<LoggingOptions, 'destination'>) {
  const out = memory();
  configureLogging({ ...options, destination: out });
  return out;
}

describe('log', () => {
  it('writes one JSON object per line: ISO time, level name, message, fields', () => {
    const out = capture({ level: 'info', format: 'json' });
    log.info('model available', { model: 'mnist', version: 1, ms: 12 });
    expect(out.lines()).toEqual([{ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), msg: 'model available', model: 'mnist', version: 1, ms: 12 }]);
  });

  it('filters by level; silent writes nothing', () => {
    const warnOnly = capture({ level: 'warn', format: 'json' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(warnOnly.lines().map((l) => l.level)).toEqual(['warn', 'error']);
    const silent = capture({ level: 'silent', format: 'json' });
    log.error('e');
    expect(silent.text()).toBe('');
  });

  it('adds the request id to lines logged while serving a request', () => {
    const out = capture({ level: 'info', format: 'json' });
    runInRequestContext(createRequestContext('req-7'), () => log.warn('request refused', { status: 400 }));
    log.info('outside');
    expect(out.lines()).toEqual([expect.objectContaining({ reqId: 'req-7', status: 400 }), expect.not.objectContaining({ reqId: expect.anything() })]);
  });

  it('redacts credentials wherever request headers get logged', () => {
    const out = capture({ level: 'info', format: 'json' });
    rootLogger().info({ req: { headers: { authorization: 'Bearer s3cret', 'x-api-key': 's3cret', accept: '*/*' } } }, 'with headers');
    log.info('flat', { headers: { authorization: 'Bearer s3cret', cookie: 'id=s3cret' } });
    expect(out.text()).not.toContain('s3cret');
    expect(out.lines()[0]).toEqual(expect.objectContaining({ req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: '*/*' } } }));
  });

  it('pretty format: human-readable, not JSON', async () => {
    const out = memory();
    createLogger({ level: 'info', format: 'pretty', destination: out }).info({ model: 'mnist' }, 'model available');
    await new Promise((resolve) => setImmediate(resolve)); // pino-pretty's pipeline may write on a later tick
    expect(out.text()).toMatch(/INFO.*model available/);
    expect(out.text()).toContain('model: "mnist"');
    expect(() => JSON.parse(out.text())).toThrow();
  });

  it('pretty format: a multi-line error reads as lines, not as a JSON string with \\n', async () => {
    const out = memory();
    createLogger({ level: 'info', format: 'pretty', destination: out }).error({ error: 'Invalid configuration:\n  - PORT="x": bad' }, 'start-up failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.text()).toContain('error: Invalid configuration:\n');
    expect(out.text()).toMatch(/\n\s+- PORT="x": bad/);
    expect(out.text()).not.toContain('\\n');
  });

  it('auto format is JSON for a destination that is not a terminal', () => {
    const out = memory();
    createLogger({ level: 'info', destination: out }).info('x');
    expect(out.lines()).toEqual([expect.objectContaining({ msg: 'x' })]);
  });
});
