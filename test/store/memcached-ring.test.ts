import { describe, expect, it } from 'vitest';
import { HashRing } from '../../src/store/drivers/memcached-ring.js';

const keys = Array.from({ length: 20_000 }, (_, i) => `s:${12025550123 + i}`);
const owners = (ring: HashRing) => new Map(keys.map((k) => [k, ring.serverFor(k)]));

describe('memcached hash ring (ketama layout)', () => {
  it('maps every key the same way in every process, whatever the server order', () => {
    const a = new HashRing(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']);
    const b = new HashRing(['10.0.0.3:11211', '10.0.0.1:11211', '10.0.0.2:11211']);
    expect([...owners(a)]).toEqual([...owners(b)]);
  });

  it('spreads keys over all servers', () => {
    const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211'];
    const counts = new Map<string, number>();
    for (const server of owners(new HashRing(servers)).values())
      counts.set(server, (counts.get(server) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(servers);
    // 160 points per server keep each share within a few points of 1/4.
    for (const n of counts.values()) expect(n / keys.length).toBeGreaterThan(0.17);
    for (const n of counts.values()) expect(n / keys.length).toBeLessThan(0.33);
  });

  it('removing a server moves only the keys it owned', () => {
    const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211'];
    const before = owners(new HashRing(servers));
    const after = owners(new HashRing(servers.filter((s) => s !== '10.0.0.3:11211')));
    let moved = 0;
    for (const [key, server] of before) {
      if (server === '10.0.0.3:11211') moved++;
      else expect(after.get(key)).toBe(server);
    }
    expect(moved / keys.length).toBeGreaterThan(0.17);
    expect(moved / keys.length).toBeLessThan(0.33);
  });

  it('adding a server moves keys only onto the new server', () => {
    const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
    const before = owners(new HashRing(servers));
    const after = owners(new HashRing([...servers, '10.0.0.9:11211']));
    let moved = 0;
    for (const [key, server] of after) {
      if (server !== before.get(key)) {
        moved++;
        expect(server).toBe('10.0.0.9:11211');
      }
    }
    expect(moved / keys.length).toBeGreaterThan(0.15);
    expect(moved / keys.length).toBeLessThan(0.35);
  });

  it('a single server owns everything; no server is refused', () => {
    expect(new HashRing(['a:1']).serverFor('anything')).toBe('a:1');
    expect(() => new HashRing([])).toThrow(TypeError);
  });
});
