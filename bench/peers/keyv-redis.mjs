// Peer (the figure's): keyv 5 + @keyv/redis, the bare read-modify-write a user writes:
// get(uid) (JSON, keyv's {value, expires} wrapper) -> modify in JS -> set(uid, session, 24 h).
// Two keyv calls = two Redis commands (GET, SET PX). No dedupe, no lease, no version check.
import { keyvRedisPeer } from '../lib/redis-peers.mjs';

export default keyvRedisPeer({
  name: 'keyv-redis',
  label: 'keyv + @keyv/redis: get + set (bare RMW)',
  dedupe: false,
});
