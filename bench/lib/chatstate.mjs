// The package as users get it: the built dist/, never src/. `npm run bench` builds first.
import { existsSync } from 'node:fs';

const entry = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(entry)) {
  throw new Error(
    '[chatstate bench] dist/index.js is missing: run `npm run bench` (it builds first) or `npm run build`.',
  );
}

export const { openStore, SessionStore, codecByName } = await import(entry.href);
