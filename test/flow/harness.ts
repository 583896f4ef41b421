import type { CloudMessage } from '../../src/channels/whatsapp-cloud/types.js';
import type { Bot } from '../../src/runtime/bot.js';
import { Deliverer } from '../../src/runtime/deliverer.js';
import { Dispatcher } from '../../src/runtime/dispatcher.js';
import { sinkChannel } from '../../src/runtime/outbound.js';
import { openStore } from '../../src/store/open.js';
import type { StoreOptions } from '../../src/store/options.js';
import type { SessionStore } from '../../src/store/session-store.js';
import type { MessageEvent } from '../../src/webhook/events.js';

const PHONE_ID = '106540352242922';

/** A reply as a line of text: buttons and lists show their options in brackets. */
export function show(message: CloudMessage | { type: string; text?: string }): string {
  const m = message as CloudMessage;
  if (m.type === 'text') return m.text;
  if (m.type === 'buttons') return `${m.body} [${m.buttons.map((b) => b.title).join(' | ')}]`;
  if (m.type === 'list')
    return `${m.body} [${m.sections.flatMap((s) => s.rows.map((r) => r.id)).join(' | ')}]`;
  return `[${m.type}]`;
}

/**
 * The real runtime around a bot: an in-memory SQLite store, the Dispatcher (inbox, claims, one
 * transition per message) and the Deliverer into a sink channel, so tests see exactly what a user
 * would receive, in order, after each commit.
 */
export async function harness(bot: Bot, storeOptions: StoreOptions = {}) {
  const store: SessionStore = await openStore('sqlite::memory:', { sweepIntervalMs: 0, ...storeOptions });
  const sink = sinkChannel();
  const deliverer = new Deliverer({
    store,
    channels: { cloud: sink, wasender: sink },
    recoveryIntervalMs: 0,
  });
  let current = bot;
  const dispatcher = new Dispatcher({
    store,
    // Indirect, so a test can "deploy" a new version of the bot over the same sessions.
    bot: (ctx) => current(ctx),
    deliver: (replies) => deliverer.deliver(replies),
    recoveryIntervalMs: 0,
  });
  let n = 0;

  async function deliver(event: MessageEvent): Promise<string[]> {
    const before = sink.messages.length;
    await dispatcher.accept([event]);
    await dispatcher.idle();
    await deliverer.idle();
    return sink.messages
      .slice(before)
      .filter((m) => m.envelope.to === event.userId)
      .map((m) => show(m.envelope.message));
  }

  function user(userId: string, provider: 'cloud' | 'wasender' = 'cloud') {
    const base = () => ({
      provider,
      messageId: `wamid.flow.${++n}`,
      userId,
      waId: userId,
      timestamp: Date.now() + n,
      businessPhoneNumberId: PHONE_ID,
      raw: null,
    });
    return {
      id: userId,
      /** Sends a text; resolves with the replies it produced. */
      send: (text: string) => deliver({ ...base(), kind: 'text', text }),
      /** Taps a reply button. */
      tap: (id: string, title = id) => deliver({ ...base(), kind: 'button_reply', id, title }),
      /** Picks a list row. */
      pick: (id: string, title = id) => deliver({ ...base(), kind: 'list_reply', id, title }),
      /** Sends any other kind of message. */
      event: (fields: Record<string, unknown>) => deliver({ ...base(), ...fields } as MessageEvent),
      session: () => store.get(userId),
    };
  }

  return {
    store,
    sink,
    user,
    deploy(next: Bot) {
      current = next;
    },
    async close() {
      await dispatcher.close();
      await deliverer.close();
      await store.close();
    },
  };
}
