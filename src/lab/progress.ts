// The run's progress: on a terminal one bar redrawn in place (cell, what runs, time left); elsewhere
// (CI logs, pipes) one plain line per finished cell.

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export class Progress {
  readonly #total: number;
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #done = 0;
  #secondsLeft: number;

  /** `plannedSeconds`: the whole run's estimate; refined as cells finish. */
  constructor(total: number, plannedSeconds: number, out: NodeJS.WriteStream = process.stderr) {
    this.#total = total;
    this.#secondsLeft = plannedSeconds;
    this.#out = out;
    this.#tty = Boolean(out.isTTY);
  }

  /** A cell starts: redraw the bar with what is running now. */
  start(what: string): void {
    if (!this.#tty) return;
    const line = `${progressBar(this.#done, this.#total)} cell ${this.#done + 1}/${this.#total} ${what} · ${formatDuration(this.#secondsLeft)} left`;
    this.#out.write(`\r\x1b[K${line.slice(0, (this.#out.columns || 120) - 1)}`);
  }

  /** A cell finished; `secondsLeft` is the new estimate of the rest. */
  finish(what: string, outcome: string, secondsLeft: number): void {
    this.#done++;
    this.#secondsLeft = secondsLeft;
    if (!this.#tty) this.#out.write(`cell ${this.#done}/${this.#total} ${what}: ${outcome}\n`);
  }

  /** Cells that will not run (their server did not start). */
  skip(count: number, secondsLeft: number): void {
    this.#done += count;
    this.#secondsLeft = secondsLeft;
  }

  /** Says something above the bar (a skipped model, a failed cell). */
  note(text: string): void {
    this.#out.write(this.#tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }

  end(): void {
    if (this.#tty) this.#out.write('\r\x1b[K');
  }
}
