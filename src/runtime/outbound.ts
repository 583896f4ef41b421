import type { WasenderClient, WasenderMessage } from '../channels/wasender/types.js';
import type { CloudMessage, SendRequest, SendResult } from '../channels/whatsapp-cloud/types.js';

/** A reply as the outbox records it: which provider, from which business number, to whom, what. */
export type OutboundEnvelope =
  | { channel: 'cloud'; from: string; to: string; message: CloudMessage; replyTo?: string }
  | { channel: 'wasender'; from: string; to: string; message: WasenderMessage };

/** Sends one envelope; resolves with the provider's message id (wamid) or rejects with a typed error. */
export interface Channel {
  send(envelope: OutboundEnvelope, entryId: string): Promise<{ providerId: string }>;
}

export type Channels = Partial<Record<OutboundEnvelope['channel'], Channel>>;

export function cloudChannel(client: { send(request: SendRequest): Promise<SendResult> }): Channel {
  return {
    async send(envelope, entryId) {
      if (envelope.channel !== 'cloud') throw new TypeError('cloud channel got a wasender envelope');
      const result = await client.send({
        from: envelope.from,
        to: envelope.to,
        message: envelope.message,
        entryId,
        ...(envelope.replyTo ? { replyTo: envelope.replyTo } : {}),
      });
      return { providerId: result.messageId };
    },
  };
}

export function wasenderChannel(client: WasenderClient): Channel {
  return {
    async send(envelope, entryId) {
      if (envelope.channel !== 'wasender') throw new TypeError('wasender channel got a cloud envelope');
      const result = await client.send({ to: envelope.to, message: envelope.message, entryId });
      return { providerId: result.messageId };
    },
  };
}

export interface SinkMessage {
  providerId: string;
  entryId: string;
  envelope: OutboundEnvelope;
  at: number;
}

/**
 * The local outbound sink: used when no provider credentials are configured (the demo and the
 * simulator). It accepts every reply, gives it a local message id and keeps the latest ones.
 */
export function sinkChannel(options: { keep?: number } = {}): Channel & {
  messages: SinkMessage[];
  subscribe(listener: (message: SinkMessage) => void): () => void;
} {
  const keep = options.keep ?? 1000;
  const messages: SinkMessage[] = [];
  const listeners = new Set<(message: SinkMessage) => void>();
  let n = 0;
  return {
    messages,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async send(envelope, entryId) {
      const message = { providerId: `wamid.local.${++n}`, entryId, envelope, at: Date.now() };
      messages.push(message);
      if (messages.length > keep) messages.shift();
      for (const listener of listeners) listener(message);
      return { providerId: message.providerId };
    },
  };
}
