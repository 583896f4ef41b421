// The app the simulator tests run against: local mode, where a sink stands in for the Cloud API and is
// also the simulator's outbox. One place for how such an app is built, what each case starts it on (an
// in-memory SQLite store and a fresh sink) and how it is shut down after the case.
import { sinkChannel } from '../../src/runtime/outbound.js';
import { type AppOptions, type ChatstateApp, createApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';

export type Sink = ReturnType<typeof sinkChannel>;

/** What one case's app runs on: a fresh in-memory SQLite store and a fresh sink. */
export async function openLocalParts(): Promise<{ store: SessionStore; sink: Sink }> {
  const store = await openStore('sqlite::memory:');
  return { store, sink: sinkChannel() };
}

/** createApp in local mode: the sink as the cloud channel and as the simulator's outbox, no recovery timer. */
export function localApp(
  store: SessionStore,
  sink: Sink,
  options: Pick<AppOptions, 'config' | 'bot' | 'verifySignature'>,
): ChatstateApp {
  return createApp({
    store,
    ...options,
    channels: { cloud: sink },
    simulator: { sink },
    recoveryIntervalMs: 0,
  });
}

/** Ends the simulator's event streams, drains the app, then closes its store. */
export async function closeLocalApp(app: ChatstateApp, store: SessionStore): Promise<void> {
  app.simulator?.close();
  await app.drain();
  await store.close();
}
