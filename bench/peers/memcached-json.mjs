// Baseline (article pattern c): the session as a JSON string in memcached, with memcache-client:
// get -> JSON.parse -> modify -> set with a 24 h lifetime. Two round trips, no CAS (last write wins).
import { memcacheJsonPeer } from '../lib/memcached-peers.mjs';

export default memcacheJsonPeer({
  name: 'memcached-json',
  label: 'article (c): memcache-client get + set, JSON string',
});
