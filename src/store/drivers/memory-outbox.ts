import type { OutboxDriver, OutboxEntry } from '../contract.js';

/** In-process outbox (as durable as the memory store: not at all). */
export function memoryOutbox(): OutboxDriver & {
  insert(user: string, entries: Array<{ id: string; payload: string }>, now: number): void;
} {
  const entries = new Map<string, OutboxEntry>();
  const byProvider = new Map<string, string>();
  return {
    insert(user, added, now) {
      for (const e of added) {
        if (entries.has(e.id)) continue;
        entries.set(e.id, {
          id: e.id,
          user,
          payload: e.payload,
          state: 'pending',
          attempts: 0,
          createdAt: now,
          updatedAt: now,
        });
      }
    },
    async pending(before, limit) {
      return [...entries.values()]
        .filter((e) => e.state === 'pending' && e.createdAt < before)
        .slice(0, limit);
    },
    async update(id, change, now) {
      const entry = entries.get(id);
      if (!entry) return;
      entry.state = change.state;
      if (change.attempts !== undefined) entry.attempts = change.attempts;
      if (change.providerId !== undefined) {
        entry.providerId = change.providerId;
        byProvider.set(change.providerId, id);
      }
      if (change.error !== undefined) entry.error = change.error;
      entry.updatedAt = now;
    },
    async byProviderId(providerId) {
      const id = byProvider.get(providerId);
      return id === undefined ? null : (entries.get(id) ?? null);
    },
    async forUser(user, limit) {
      return [...entries.values()]
        .filter((e) => e.user === user)
        .reverse()
        .slice(0, limit);
    },
  };
}
