// Peer: keyv 5 + @keyv/sqlite on its own temp file, as installed (rollback journal, synchronous=FULL:
// the adapter sets no pragmas, so every set is an fsync'd transaction). See lib/keyv-peer.mjs.
import KeyvSqlite from '@keyv/sqlite';
import { keyvPeer } from '../lib/keyv-peer.mjs';
import { averageLength, sqliteFileBytes } from '../lib/sqlite-file.mjs';

export const measureKeyvSqliteBytes = async (store) => {
  const path = store.opts.db;
  return { ...sqliteFileBytes(path), valueBytes: averageLength(path, 'keyv', 'value') };
};

/** Bulk loads for the bytes figure skip fsync (journal mode does not change the B-tree pages). */
export async function fastLoad(store) {
  await store.query('PRAGMA journal_mode = WAL');
  await store.query('PRAGMA synchronous = OFF');
}

export default keyvPeer({
  name: 'keyv-sqlite',
  label: 'keyv + @keyv/sqlite (defaults)',
  peerOf: 'sqlite',
  async createStore(tmp, purpose) {
    const store = new KeyvSqlite({ uri: `sqlite://${tmp(`keyv-${purpose}.db`)}` });
    if (purpose === 'bytes') await fastLoad(store);
    return store;
  },
  measureBytes: measureKeyvSqliteBytes,
});
