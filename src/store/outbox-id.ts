/**
 * An outbox entry id is `<user key>:<session version>:<n>` (session-store.ts). Drivers that keep
 * entries beside the user's session read the user key and the `<version>:<n>` member back from it.
 */
const ID = /^(.+):(\d+:\d+)$/;

export function parseEntryId(id: string): { user: string; member: string } | null {
  const m = ID.exec(id);
  return m ? { user: m[1] as string, member: m[2] as string } : null;
}

/** Orders members of one user: version, then position in the transition. */
export function compareMembers(a: string, b: string): number {
  const [va = 0, na = 0] = a.split(':').map(Number);
  const [vb = 0, nb = 0] = b.split(':').map(Number);
  return va - vb || na - nb;
}
