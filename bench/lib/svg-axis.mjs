// Scales and tick values for the bar charts: linear from 0, or logarithmic over whole decades.

/** 1, 2 or 5 times a power of ten, the smallest such step giving at most `count` intervals. */
function niceStep(span, count) {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

/**
 * Maps values onto [x0, x1]. Linear: 0 … a nice maximum. Log: the decades around the data, with
 * ticks at 1-2-5 when the range is 3 decades or less.
 */
export function makeScale(values, { log = false, x0, x1 }) {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  const max = positive.length ? Math.max(...positive) : 1;
  if (log) {
    const min = positive.length ? Math.min(...positive) : 1;
    const lo = 10 ** Math.floor(Math.log10(min));
    let hi = 10 ** Math.ceil(Math.log10(max));
    if (hi <= lo) hi = lo * 10;
    const decades = Math.round(Math.log10(hi / lo));
    const ticks = [];
    for (let d = lo; d <= hi * 1.0001; d *= 10) {
      for (const m of decades <= 3 ? [1, 2, 5] : [1]) if (d * m <= hi * 1.0001) ticks.push(d * m);
    }
    const at = (v) => x0 + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / Math.log10(hi / lo)) * (x1 - x0);
    return { at, ticks, base: lo, log: true };
  }
  const step = niceStep(max, 5);
  const hi = Math.ceil(max / step) * step || step;
  const ticks = [];
  for (let v = 0; v <= hi + step / 2; v += step) ticks.push(Math.round(v * 1e9) / 1e9);
  return { at: (v) => x0 + (Math.max(v, 0) / hi) * (x1 - x0), ticks, base: 0, log: false };
}

/** Tick labels: 1k, 20k, 1.5M for big numbers; plain below 1,000. */
export function tickLabel(v) {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}
