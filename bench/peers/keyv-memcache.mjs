// Peer: keyv 5 + @keyv/memcache (memjs), the bare read-modify-write: get(uid) -> modify -> set(uid,
// session, 24 h). Two keyv calls, two memcached requests. No dedupe, no lease, no CAS.
import { keyvMemcachePeer } from '../lib/memcached-peers.mjs';

export default keyvMemcachePeer({
  name: 'keyv-memcache',
  label: 'keyv + @keyv/memcache: get + set (bare RMW)',
});
