import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allElements, parseXml, type XmlElement } from '../support/xml-tree.js';

// Renders the charts of bench/chart.mjs from small results files (test/fixtures/bench-results/) and
// checks the SVG a reader gets: well-formed, self-contained, every row labelled, bars to scale.
const root = new URL('../..', import.meta.url).pathname;
const fixtures = join(root, 'test/fixtures/bench-results');
let out = '';
let run: ReturnType<typeof spawnSync>;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'chatstate-chart-test-'));
  run = spawnSync(process.execPath, ['bench/chart.mjs', '--in', fixtures, '--out', out], {
    cwd: root,
    encoding: 'utf8',
  });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const fixture = (file: string) => JSON.parse(readFileSync(join(fixtures, file), 'utf8'));
const svg = (kind: string) => parseXml(readFileSync(join(out, `${kind}.svg`), 'utf8'));
/** The bar rows: each is a <g class="bar"> whose <title> reads "<label>: <value>". */
const barsOf = (doc: XmlElement) =>
  allElements(doc)
    .filter((e) => e.name === 'g' && e.attrs.class === 'bar')
    .map((g) => ({
      title: g.children.find((c) => c.name === 'title')?.text ?? '',
      width: Number(g.children.find((c) => c.name === 'rect')?.attrs.width ?? Number.NaN),
    }));
const barFor = (doc: XmlElement, label: string) => {
  const bar = barsOf(doc).find((b) => b.title.startsWith(`${label}: `));
  if (!bar) throw new Error(`no bar labelled "${label}"`);
  return bar;
};

describe('bench/chart.mjs', () => {
  it('draws one chart per results kind present, from the newest file of each, and skips the rest', () => {
    expect(run.status, String(run.stderr)).toBe(0);
    for (const kind of ['stores', 'scale', 'webhook', 'e2e'])
      expect(existsSync(join(out, `${kind}.svg`))).toBe(true);
    expect(existsSync(join(out, 'sends.svg'))).toBe(false);
    expect(run.stderr).toMatch(/sends: no results file yet, skipped/);
    expect(readFileSync(join(out, 'stores.svg'), 'utf8')).not.toContain('OLDER');
  });

  it('writes well-formed, self-contained SVG of a fixed width with a title and a background', () => {
    for (const kind of ['stores', 'scale', 'webhook', 'e2e']) {
      const doc = svg(kind);
      expect(doc.name).toBe('svg');
      expect(doc.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
      expect(doc.attrs.width).toBe('800');
      expect(doc.attrs.viewBox).toBe(`0 0 800 ${doc.attrs.height}`);
      expect(Number(doc.attrs.height)).toBeGreaterThan(100);
      expect(doc.children[0]?.name).toBe('title');
      expect(doc.children[0]?.text.length).toBeGreaterThan(5);
      expect(doc.children.some((c) => c.name === 'rect' && c.attrs.fill === '#ffffff')).toBe(true);
      // Nothing loaded from outside: GitHub shows the file as an image.
      const text = readFileSync(join(out, `${kind}.svg`), 'utf8');
      expect(text).not.toMatch(/href=|@import|url\(/);
    }
  });

  it('labels every subject of the stores file, escaped, and draws the bars to a log scale', () => {
    const doc = svg('stores');
    for (const s of fixture('2026-01-02-stores.json').subjects) barFor(doc, s.label);
    const sqlite = barFor(doc, 'chatstate sqlite:<tmp file>');
    const keyv = barFor(doc, 'keyv + @keyv/sqlite (defaults)');
    const floor = barFor(doc, 'floor: better-sqlite3 & "quotes"');
    expect(keyv.width).toBeGreaterThan(sqlite.width);
    expect(sqlite.width).toBeGreaterThan(floor.width);
    // Log scale: 48 → 3,685 µs is 1.9 decades, 14.9 → 48 µs half a decade; a linear bar would be 76x.
    expect(keyv.width / sqlite.width).toBeLessThan(10);
    for (const b of barsOf(doc).filter((x) => Number.isFinite(x.width))) {
      expect(b.width).toBeGreaterThan(0);
      expect(b.width).toBeLessThanOrEqual(800);
    }
    // A row that did not run is shown, without a bar.
    expect(barFor(doc, 'chatstate memcached:// (skipped row)').width).toBeNaN();
  });

  it('draws p99 per stored-session count for every scale row, with the figure line', () => {
    const doc = svg('scale');
    const labels = barsOf(doc).map((b) => b.title);
    expect(labels.filter((t) => t.includes('sessions: '))).toHaveLength(5);
    const w = (n: string) =>
      barsOf(doc).find((b) => b.title.startsWith(`${n} sessions: `) && Number.isFinite(b.width))?.width ?? 0;
    expect(w('1,000,000')).toBeGreaterThan(w('100,000'));
    const texts = allElements(doc)
      .filter((e) => e.name === 'text')
      .map((e) => e.text);
    expect(texts).toContain('chatstate sqlite:<tmp file>');
    expect(texts).toContain('chatstate redis://');
    expect(texts.some((t) => t.startsWith('PASS: chatstate SQLite p99'))).toBe(true);
  });

  it('labels every webhook and e2e subject, including one without a result', () => {
    for (const [kind, file] of [
      ['webhook', '2026-01-02-webhook.json'],
      ['e2e', '2026-01-02-e2e.json'],
    ] as const) {
      const doc = svg(kind);
      for (const s of fixture(file).subjects) barFor(doc, s.label);
    }
    expect(barFor(svg('webhook'), 'Hono (failed in every round)').title).toContain('no result');
    expect(barFor(svg('webhook'), 'bare node:http (HMAC + JSON.parse)').width).toBeGreaterThan(
      barFor(svg('webhook'), 'chatstate serve, sqlite:<tmp file>').width,
    );
  });
});

describe('parseXml (the checker above)', () => {
  it('refuses what is not well-formed, so the chart checks can fail', () => {
    expect(() => parseXml('<svg><g></svg></g>')).toThrow(/closes/);
    expect(() => parseXml('<svg><text>a <tmp file> b</text></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => parseXml('<svg width=800/>')).toThrow(/malformed attributes/);
    expect(() => parseXml('<svg/><svg/>')).toThrow(/second root/);
    expect(() => parseXml('<svg><g>')).toThrow(/unclosed/);
    expect(parseXml('<svg a="1 &amp; 2"><text>x &lt; y</text></svg>').children[0]?.text).toBe('x < y');
  });
});
