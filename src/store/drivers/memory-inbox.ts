import type { InboxDriver, InboxEntry } from '../contract.js';

/** In-process inbox: ordered per user, deduplicated by id. Not durable (neither is the memory store). */
export function memoryInbox(): InboxDriver & { removeOne(user: string, id: string): void } {
  const byUser = new Map<string, Array<InboxEntry & { seq: number; added: number }>>();
  const ids = new Set<string>();
  let seq = 0;
  const removeOne = (user: string, removed: Iterable<string>) => {
    const list = byUser.get(user);
    if (!list) return;
    const gone = new Set(removed);
    for (const id of gone) ids.delete(id);
    const rest = list.filter((e) => !gone.has(e.id));
    if (rest.length) byUser.set(user, rest);
    else byUser.delete(user);
  };
  return {
    removesOnCommit: true,
    removeOne: (user, id) => removeOne(user, [id]),
    async add(entries, now) {
      let added = 0;
      for (const entry of entries) {
        if (ids.has(entry.id)) continue;
        ids.add(entry.id);
        const list = byUser.get(entry.user) ?? [];
        list.push({ ...entry, seq: ++seq, added: now });
        list.sort((a, b) => a.at - b.at || a.seq - b.seq);
        byUser.set(entry.user, list);
        added++;
      }
      return added;
    },
    async peek(user, limit) {
      return (byUser.get(user) ?? [])
        .slice(0, limit)
        .map(({ id, user: u, at, payload }) => ({ id, user: u, at, payload }));
    },
    async remove(user, removed) {
      removeOne(user, removed);
    },
    async users(before, limit) {
      return [...byUser.entries()]
        .map(([user, list]) => ({ user, first: Math.min(...list.map((e) => e.added)) }))
        .filter((u) => u.first < before)
        .sort((a, b) => a.first - b.first)
        .slice(0, limit)
        .map((u) => u.user);
    },
  };
}
