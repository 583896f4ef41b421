import type { Session } from '../session/types.js';
import type { OutboxRecord } from '../store/store-outbox.js';
import { duration } from './shared.js';

/** What `session get` reports: the session, its remaining TTL, and its latest replies. */
export interface SessionReport {
  session: Session;
  /** Milliseconds until expiry; null when the session never expires. */
  ttlMs: number | null;
  /** Newest first; null when the store has no outbox (replies are not recorded there). */
  outbox: OutboxRecord[] | null;
}

/** The `--json` form: outbox payloads parsed, so a script does not decode JSON inside JSON. */
export function reportJson(report: SessionReport): object {
  return {
    found: true,
    session: report.session,
    ttlMs: report.ttlMs,
    outbox: report.outbox?.map(({ payload, ...entry }) => ({ ...entry, envelope: parse(payload) })) ?? null,
  };
}

/** The readable form: one fact per line, vars and history indented beneath. */
export function reportText(report: SessionReport, now: number): string {
  const s = report.session;
  const lines = [
    `session ${s.id}`,
    `  flow      ${s.flow ?? '-'}`,
    `  node      ${s.node ?? '-'}`,
    `  prevNode  ${s.prevNode ?? '-'}`,
    `  retries   ${s.retries}`,
    `  version   ${s.version}`,
    `  schema    ${s.schema}`,
    `  updated   ${new Date(s.updatedAt).toISOString()} (${duration(now - s.updatedAt)} ago)`,
    `  created   ${new Date(s.createdAt).toISOString()}`,
    `  ttl left  ${report.ttlMs === null ? 'never expires' : `${duration(report.ttlMs)} (expires ${new Date(now + report.ttlMs).toISOString()})`}`,
  ];
  const vars = Object.entries(s.vars);
  lines.push(`  vars      ${vars.length ? '' : '{}'}`.trimEnd());
  for (const [name, value] of vars) lines.push(`    ${name} = ${JSON.stringify(value)}`);
  lines.push(`  history   ${s.history.length ? `(${s.history.length}, oldest first)` : 'empty'}`);
  for (const h of s.history) {
    const what = h.text !== undefined ? JSON.stringify(h.text) : h.media ? `[${h.media.kind}]` : '';
    lines.push(`    ${new Date(h.at).toISOString()} ${h.dir === 'in' ? '<-' : '->'} ${what}`);
  }
  if (report.outbox === null) {
    lines.push('  outbox    (this store keeps no outbox)');
  } else {
    lines.push(
      `  outbox    ${report.outbox.length ? `(latest ${report.outbox.length}, newest first)` : 'empty'}`,
    );
    for (const e of report.outbox) {
      const extra = [e.attempts ? `${e.attempts} attempt(s)` : '', e.providerId ?? '', e.error ?? '']
        .filter(Boolean)
        .join(', ');
      lines.push(
        `    ${e.state.padEnd(9)} ${new Date(e.createdAt).toISOString()} ${summary(e.payload)}${extra ? `  [${extra}]` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

function parse(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    // A payload the CLI cannot read is still shown, raw, rather than hiding the entry.
    return payload;
  }
}

/** `cloud text "Hi…"`: enough to recognise a reply without dumping its envelope. */
function summary(payload: string): string {
  const env = parse(payload) as { channel?: unknown; message?: { type?: unknown; text?: unknown } } | string;
  if (typeof env !== 'object' || env === null) return '(unreadable payload)';
  const m = env.message ?? {};
  const text = typeof m.text === 'string' ? m.text : (m.text as { body?: unknown } | undefined)?.body;
  const preview =
    typeof text === 'string' ? ` ${JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text)}` : '';
  return `${String(env.channel ?? '?')} ${String(m.type ?? '?')}${preview}`;
}
