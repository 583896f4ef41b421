// Renders a GitHub-flavoured markdown table; numeric-looking columns are right-aligned.

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
