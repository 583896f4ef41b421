// chatstate's embedded default store: `sqlite:<tmp file>` (WAL, synchronous=NORMAL, better-sqlite3).
import { chatstateSubject } from '../lib/chatstate-subject.mjs';
import { averageLength, sqliteFileBytes } from '../lib/sqlite-file.mjs';

export default chatstateSubject({
  name: 'sqlite',
  label: 'chatstate sqlite:<tmp file>',
  url: (tmp) => `sqlite:${tmp('chatstate.db')}`,
  bytesUrl: (tmp) => `sqlite:${tmp('chatstate-bytes.db')}`,
  async measureBytes(url) {
    const path = url.slice('sqlite:'.length);
    return { ...sqliteFileBytes(path), valueBytes: averageLength(path, 'cs_sessions', 'd') };
  },
});
