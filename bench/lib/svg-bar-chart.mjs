// Horizontal bar charts for bench/results/*.svg: one row per bar, bars grouped under a header, the
// value printed at the end of each bar, an axis with gridlines (linear from 0 or log over decades).
// Self-contained SVG at a fixed width with a white background, so GitHub shows it the same in light
// and dark mode.
import { el, FONT, text, textWidth } from './svg.mjs';
import { makeScale, tickLabel } from './svg-axis.mjs';

/** Bar colours by role: chatstate, the code a user writes without it, the database's own floor. */
export const TONES = Object.freeze({
  chatstate: '#2563eb',
  peer: '#9ca3af',
  floor: '#059669',
  other: '#d97706',
});

const INK = '#111827';
const MUTED = '#4b5563';
const GRID = '#e5e7eb';
const BAR = 16;
const GAP = 6;
const PAD = 16;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** `label` cut to fit `width` px at `size` px, with an ellipsis when cut. */
function fit(label, width, size) {
  if (textWidth(label, size) <= width) return label;
  const keep = Math.max(1, Math.floor(width / (size * 0.56)) - 1);
  return `${label.slice(0, keep)}…`;
}

/** `value` broken at spaces into lines that fit `width` px at `size` px (a long word gets its own line). */
function wrap(value, width, size) {
  const lines = [];
  let line = '';
  for (const word of String(value).split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * @param {object} spec
 * @param {string} spec.title
 * @param {string[]} [spec.subtitle]  lines under the title (date, command, machine)
 * @param {string} spec.axisTitle    what the bars measure, with the unit
 * @param {boolean} [spec.log]       log scale (for latencies spanning decades)
 * @param {{label?: string, bars: {label: string, value: number|null, display?: string, tone?: string, color?: string}[]}[]} spec.groups
 * @param {{label: string, color: string}[]} [spec.legend]
 * @param {string[]} [spec.notes]    lines under the axis
 * @param {number} [spec.width]      px, default 800
 */
export function barChart(spec) {
  const width = spec.width ?? 800;
  const groups = spec.groups.filter((g) => g.bars.length);
  const bars = groups.flatMap((g) => g.bars);
  const shown = (b) => Number.isFinite(b.value) && b.value > 0;
  const display = (b) => (shown(b) ? (b.display ?? tickLabel(b.value)) : (b.display ?? 'not measured'));
  const labelW = clamp(Math.max(0, ...bars.map((b) => textWidth(b.label, 12))) + 12, 120, 360);
  const valueW = clamp(Math.max(0, ...bars.map((b) => textWidth(display(b), 11))) + 10, 40, 160);
  const x0 = PAD + labelW;
  const x1 = width - PAD - valueW;
  const scale = makeScale(
    bars.filter(shown).map((b) => b.value),
    { log: spec.log, x0, x1 },
  );

  const head = [];
  let y = PAD + 16;
  head.push(el('text', { x: PAD, y, 'font-size': 16, 'font-weight': 'bold', fill: INK }, text(spec.title)));
  for (const line of spec.subtitle ?? []) {
    y += 16;
    head.push(el('text', { x: PAD, y, 'font-size': 11, fill: MUTED }, text(fit(line, width - 2 * PAD, 11))));
  }
  if (spec.legend?.length) {
    y += 20;
    let x = PAD;
    for (const item of spec.legend) {
      head.push(el('rect', { x, y: y - 9, width: 10, height: 10, fill: item.color }));
      head.push(el('text', { x: x + 14, y, 'font-size': 11, fill: INK }, text(item.label)));
      x += 14 + textWidth(item.label, 11) + 18;
    }
  }
  y += 14;
  const plotTop = y;

  const rows = [];
  for (const group of groups) {
    if (group.label) {
      y += 14;
      const label = fit(group.label, width - 2 * PAD, 12);
      // A header may run into the plot: a white box keeps the gridlines from crossing its letters.
      rows.push(
        el('rect', { x: PAD - 2, y: y - 12, width: textWidth(label, 12) + 8, height: 16, fill: '#ffffff' }),
      );
      rows.push(el('text', { x: PAD, y, 'font-size': 12, 'font-weight': 'bold', fill: INK }, text(label)));
      y += 6;
    }
    for (const bar of group.bars) {
      const top = y;
      const mid = top + BAR / 2 + 4;
      const end = shown(bar) ? Math.max(x0 + 1, scale.at(bar.value)) : x0;
      const cut = fit(bar.label, labelW - 12, 12);
      rows.push(
        el(
          'g',
          { class: 'bar' },
          el('title', {}, text(`${bar.label}: ${display(bar)}`)),
          el('text', { x: x0 - 8, y: mid, 'font-size': 12, 'text-anchor': 'end', fill: INK }, text(cut)),
          shown(bar)
            ? el('rect', {
                x: x0,
                y: top,
                width: end - x0,
                height: BAR,
                fill: bar.color ?? TONES[bar.tone] ?? TONES.chatstate,
              })
            : null,
          el(
            'text',
            { x: end + 6, y: mid, 'font-size': 11, fill: shown(bar) ? INK : MUTED },
            text(display(bar)),
          ),
        ),
      );
      y += BAR + GAP;
    }
    y += 4;
  }
  const plotBottom = y;

  // Drawn under the rows: gridlines, tick labels, the left axis line. Over them: the rest of the axis.
  const grid = [];
  const axis = [];
  for (const t of scale.ticks) {
    const x = scale.at(t);
    grid.push(el('line', { x1: x, y1: plotTop, x2: x, y2: plotBottom, stroke: GRID, 'stroke-width': 1 }));
    grid.push(
      el(
        'text',
        { x, y: plotBottom + 14, 'font-size': 10, 'text-anchor': 'middle', fill: MUTED },
        text(tickLabel(t)),
      ),
    );
  }
  axis.push(el('line', { x1: x0, y1: plotBottom, x2: x1, y2: plotBottom, stroke: MUTED, 'stroke-width': 1 }));
  grid.push(el('line', { x1: x0, y1: plotTop, x2: x0, y2: plotBottom, stroke: MUTED, 'stroke-width': 1 }));
  y = plotBottom + 32;
  axis.push(
    el(
      'text',
      { x: (x0 + x1) / 2, y, 'font-size': 12, 'text-anchor': 'middle', fill: INK },
      text(`${spec.axisTitle}${spec.log ? ' (log scale)' : ''}`),
    ),
  );
  for (const line of (spec.notes ?? []).flatMap((note) => wrap(note, width - 2 * PAD, 11))) {
    y += 15;
    axis.push(el('text', { x: PAD, y, 'font-size': 11, fill: MUTED }, text(line)));
  }
  const height = Math.ceil(y + PAD);

  return `${el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'font-family': FONT,
      role: 'img',
      'aria-label': spec.title,
    },
    el('title', {}, text(spec.title)),
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    head,
    grid,
    rows,
    axis,
  )}\n`;
}
