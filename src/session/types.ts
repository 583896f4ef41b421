/** JSON values a session may hold in `vars`. No functions, no Dates, no binary: state stays portable. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type Vars = Record<string, JsonValue>;

/** A reference to media held by WhatsApp (or a URL): state never holds media bytes. */
export interface MediaRef {
  kind: 'image' | 'audio' | 'video' | 'document' | 'sticker';
  /** Media id from the webhook (Cloud API) or the provider. */
  id?: string;
  url?: string;
  mime?: string;
  caption?: string;
}

/** One message of recent context, inbound (`in`) or outbound (`out`). */
export interface HistoryEntry {
  dir: 'in' | 'out';
  /** Milliseconds since the epoch. */
  at: number;
  text?: string;
  media?: MediaRef;
}

/**
 * A WhatsApp user's session. `id` is the wa_id, or the business-scoped user id when the user
 * has no phone number. `version` is the optimistic-concurrency version (0 = never stored).
 */
export interface Session<V extends Vars = Vars> {
  id: string;
  flow: string | null;
  node: string | null;
  prevNode: string | null;
  vars: V;
  retries: number;
  history: HistoryEntry[];
  /** Schema version of `vars` (application-defined, migrated on load). */
  schema: number;
  version: number;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
}

/** The top-level fields a patch may set directly. */
export type SettableField = 'flow' | 'node' | 'prevNode' | 'retries' | 'schema';

/**
 * What a transition changed: applied atomically by the store with a version check.
 * A store that keeps fields natively (Redis hash) applies it field by field; a blob store applies
 * it to the loaded copy and writes the result.
 */
export interface SessionPatch {
  /** Start from an empty session (clear command, expired session) before applying the rest. */
  reset: boolean;
  set: Partial<Pick<Session, SettableField>>;
  setVars: Record<string, JsonValue>;
  unsetVars: string[];
  /** Atomic increments: `retries` or a numeric var (`vars.<name>`). */
  incr: Record<string, number>;
  push: HistoryEntry[];
  historyLimit: number;
  /** New absolute expiry (ms since epoch), or null for no expiry. */
  expiresAt: number | null;
  updatedAt: number;
}

export const RETRIES_COUNTER = 'retries';
export const VAR_COUNTER_PREFIX = 'vars.';
