// The progress bar of `chatstate bench`, on stderr only (stdout carries the table or the JSON).
// A dozen lines of our own rather than a library: one bar, one line, no colours, nothing to keep
// up to date. On a terminal it redraws in place; elsewhere (CI logs, files) it prints one line
// per finished phase, so a log is not flooded with redraws.

const WIDTH = 24;
const REDRAW_MS = 100;

export interface PhasePlan {
  label: string;
  /** Expected length: done when either is reached (the bar shows the larger fraction). */
  budgetMs?: number;
  limit?: number;
}

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #plan: PhasePlan = { label: '' };
  #started = 0;
  #drawn = 0;
  #done = 0;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  /** A line of its own (start and end messages). */
  note(text: string): void {
    if (this.#tty) this.#out.write('\r\x1b[2K');
    this.#out.write(`chatstate bench: ${text}\n`);
  }

  start(plan: PhasePlan): void {
    this.#plan = plan;
    this.#started = performance.now();
    this.#done = 0;
    this.#drawn = 0;
    this.#draw();
  }

  /** Count of work done so far in this phase; redraws at most every 100 ms. */
  update = (done: number): void => {
    this.#done = done;
    if (this.#tty && performance.now() - this.#drawn >= REDRAW_MS) this.#draw();
  };

  /** Ends the phase with a summary (`12,345 transitions in 10.0 s`). */
  end(summary: string): void {
    const line = `${this.#plan.label}: ${summary}`;
    if (this.#tty) this.#out.write(`\r\x1b[2K${this.#bar(1)} ${line}\n`);
    else this.#out.write(`chatstate bench: ${line}\n`);
  }

  #draw(): void {
    if (!this.#tty) return;
    this.#drawn = performance.now();
    const { budgetMs, limit, label } = this.#plan;
    const byTime = budgetMs ? (this.#drawn - this.#started) / budgetMs : 0;
    const byCount = limit && Number.isFinite(limit) ? this.#done / limit : 0;
    const fraction = Math.min(1, Math.max(byTime, byCount));
    const count = this.#done ? ` ${this.#done.toLocaleString('en-US')}` : '';
    this.#out.write(`\r\x1b[2K${this.#bar(fraction)} ${label}${count}`);
  }

  #bar(fraction: number): string {
    const full = Math.round(fraction * WIDTH);
    return `[${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
  }
}
