// Encoded body size of the seed session per codec, read back from a `memory:` store through
// SessionStore.driver.load (the bytes exactly as every blob store receives them, 1-byte frame tag
// included). Also after 5 messages, when the history is full and the body stops growing.
import { openStore } from './chatstate.mjs';
import { CHATSTATE_OPTIONS, SEED, SEED_JSON, stepHandler, writeSeed } from './workload.mjs';

export async function bodySizes() {
  const rows = [];
  for (const codec of ['msgpack', 'json']) {
    const clock = () => SEED.ts * 1000;
    const store = await openStore('memory:', { ...CHATSTATE_OPTIONS, codec, clock });
    const size = async () => (await store.driver.load(SEED.uid, clock())).body.length;
    await store.transition(SEED.uid, writeSeed, { lease: false });
    const seed = await size();
    for (let i = 0; i < 5; i++) await store.transition(SEED.uid, stepHandler, { lease: false });
    rows.push({ encoding: `chatstate ${codec}`, seedBytes: seed, fullHistoryBytes: await size() });
    await store.close();
  }
  rows.push({
    encoding: 'seed JSON as given (whole blob)',
    seedBytes: Buffer.byteLength(SEED_JSON),
    fullHistoryBytes: null,
  });
  return rows;
}
