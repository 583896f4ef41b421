// Peer: keyv 5 + @keyv/redis with the same four calls as the SQLite peer (bench/lib/keyv-peer.mjs):
// get msg:<id> (dedupe) -> get uid -> modify -> set uid (24 h) -> set msg:<id> (7 d). The pattern
// closest to what chatstate does (it dedupes), still without lease or version check.
import { keyvRedisPeer } from '../lib/redis-peers.mjs';

export default keyvRedisPeer({
  name: 'keyv-redis-dedupe',
  label: 'keyv + @keyv/redis: dedupe get + get + set + set',
  dedupe: true,
});
