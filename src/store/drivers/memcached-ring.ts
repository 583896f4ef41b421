import { createHash } from 'node:crypto';

/**
 * Consistent hashing for several memcached servers, in the libketama layout: every server owns
 * 160 points on a 32-bit circle (40 MD5 digests of `host:port-i`, 4 points each) and a key belongs
 * to the first point at or after the first 4 bytes of its own MD5. Adding or removing one server
 * moves only the keys that server owns (about 1/N of them); a modulo hash would move almost all.
 *
 * memcache-client's own multi-server mode does not do this: it picks a random server per command
 * (it is meant for redundant copies), so the same key would land on different servers.
 */
export class HashRing<T extends string = string> {
  readonly servers: readonly T[];
  readonly #points: Uint32Array;
  readonly #owners: T[];

  constructor(servers: readonly T[], digestsPerServer = 40) {
    if (servers.length === 0) throw new TypeError('a hash ring needs at least one server');
    this.servers = [...servers];
    const points: Array<{ point: number; server: T }> = [];
    for (const server of servers) {
      for (let i = 0; i < digestsPerServer; i++) {
        const digest = md5(`${server}-${i}`);
        for (let h = 0; h < 4; h++) points.push({ point: digest.readUInt32LE(h * 4), server });
      }
    }
    // Ties (two servers on one point) are broken by server name so every process builds the same ring.
    points.sort((a, b) => a.point - b.point || (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
    this.#points = Uint32Array.from(points, (p) => p.point);
    this.#owners = points.map((p) => p.server);
  }

  /** The server that owns `key`. */
  serverFor(key: string): T {
    const only = this.servers.length === 1 ? this.servers[0] : undefined;
    if (only !== undefined) return only;
    const hash = md5(key).readUInt32LE(0);
    const points = this.#points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    // Past the last point the circle wraps to the first.
    return this.#owners[lo === points.length ? 0 : lo] as T;
  }
}

function md5(text: string): Buffer {
  return createHash('md5').update(text).digest();
}
