// Renders a GitHub-flavoured markdown table; numeric-looking columns are right-aligned.
import { fmtNum } from './stats.mjs';

const numeric = (cell) => /^[\d,.~+\-—x%]+(\s?(us|B|x))?$/.test(String(cell).trim());

/** `rows` are arrays of cells (strings or numbers); `header` names the columns. */
export function markdownTable(header, rows) {
  const cells = rows.map((row) => row.map((c) => String(c ?? '').replaceAll('|', '\\|')));
  const right = header.map((_, i) => cells.length > 0 && cells.every((row) => numeric(row[i] ?? '')));
  const widths = header.map((h, i) => Math.max(3, h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row) =>
    `| ${row.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/**
 * The cells a throughput row of the webhook, e2e and sends reports starts with: the rate (median of
 * the rounds), the rounds' rates "a / b / c", then p50 and p99 latency.
 */
export const rateCells = (rate, perRound, p50, p99) => [
  fmtNum(rate),
  perRound.map(fmtNum).join(' / '),
  fmtNum(p50),
  fmtNum(p99),
];
