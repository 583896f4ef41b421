// Peer: the same keyv code with the SQLite file tuned like chatstate's (WAL, synchronous=NORMAL),
// set through the adapter's own connection. Shows how much of the gap is fsync and how much is
// the keyv pattern (four async calls through node-sqlite3's thread pool, whole-JSON rewrite).
import KeyvSqlite from '@keyv/sqlite';
import { keyvPeer } from '../lib/keyv-peer.mjs';

export default keyvPeer({
  name: 'keyv-sqlite-wal',
  label: 'keyv + @keyv/sqlite (WAL, synchronous=NORMAL)',
  peerOf: 'sqlite',
  async createStore(tmp, purpose) {
    const store = new KeyvSqlite({ uri: `sqlite://${tmp(`keyv-wal-${purpose}.db`)}` });
    await store.query('PRAGMA journal_mode = WAL');
    await store.query('PRAGMA synchronous = NORMAL');
    return store;
  },
});
