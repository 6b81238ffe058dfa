import type { BatchProgress, EpochRecord } from './fit';

/**
 * Progress on stderr. On a terminal: one line redrawn in place (at most every 100 ms) with a bar,
 * batch count, running loss / accuracy and elapsed time, replaced by the epoch's summary line when
 * the epoch ends. Elsewhere (a pipe, a log file, a test): only the epoch lines, no control
 * characters.
 */
export class Progress {
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly width = 24,
    private readonly now: () => number = Date.now,
  ) {}

  /** A bar for any counted work: `label [=====>    ] done/total suffix`. */
  bar(label: string, done: number, total: number, suffix = ''): void {
    if (!this.tty) return;
    const t = this.now();
    if (done < total && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const filled = total > 0 ? Math.round((done / total) * this.width) : 0;
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (done >= total ? '=' : '>') : ''}${' '.repeat(this.width - filled)}`;
    this.write(`\r\x1b[K${label} [${bar}] ${done}/${total}${suffix ? ` ${suffix}` : ''}`);
    this.drawn = true;
  }

  batch(p: BatchProgress): void {
    this.bar(`${p.phase} epoch ${p.epoch}/${p.epochs}`, p.batch, p.batches, `loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(4)} ${p.seconds.toFixed(1)}s`);
  }

  /** A line that stays (clears a bar drawn before it). */
  line(text: string): void {
    this.write(`${this.drawn ? '\r\x1b[K' : ''}${text}\n`);
    this.drawn = false;
  }

  epoch(r: EpochRecord, epochs: number): void {
    const exact = r.validationExactMatch !== undefined ? `  val_exact ${r.validationExactMatch.toFixed(4)}` : '';
    this.line(
      `${r.phase} epoch ${r.epoch}/${epochs}  lr ${r.learningRate.toExponential(2)}  loss ${r.loss.toFixed(4)}  acc ${r.accuracy.toFixed(4)}  ` +
        `val_loss ${r.validationLoss.toFixed(4)}  val_acc ${r.validationAccuracy.toFixed(4)}${exact}  ${r.seconds.toFixed(1)} s${r.best ? '  *best' : ''}`,
    );
  }
}
