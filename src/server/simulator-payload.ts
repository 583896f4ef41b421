import { z } from 'zod';

/**
 * The business number the simulated users write to. Meta's ids are digits; these are obviously
 * fake (555 range) so a simulated session is never mistaken for a real one in logs.
 */
export const SIMULATOR_NUMBER = {
  phoneNumberId: '100000000000555',
  display: '15550100555',
  wabaId: '100000000000556',
};

const choice = z.object({ id: z.string().min(1).max(256), title: z.string().min(1).max(72) });

// What the page may send: one WhatsApp user (digits, like a wa_id) and exactly one message.
const inputSchema = z
  .object({
    from: z.string().regex(/^\d{6,15}$/, 'from must be a phone number: 6 to 15 digits, no +'),
    name: z.string().trim().min(1).max(64),
    text: z.string().trim().min(1).max(4096).optional(),
    button_reply: choice.optional(),
    list_reply: choice.extend({ description: z.string().max(72).optional() }).optional(),
    /** wamid of the business message a button or list belongs to (Meta sends it as `context.id`). */
    context: z.string().min(1).max(256).optional(),
  })
  .strict()
  .refine((v) => [v.text, v.button_reply, v.list_reply].filter((x) => x !== undefined).length === 1, {
    message: 'send exactly one of text, button_reply or list_reply',
  });

export type SimulatorInput = z.infer<typeof inputSchema>;

/** Validates a `POST /simulator/send` body; a string is the reason it was refused. */
export function parseSimulatorInput(json: unknown): SimulatorInput | string {
  const parsed = inputSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
}

/** The message as the page shows it in the transcript. */
export type InboundView =
  | { type: 'text'; text: string }
  | { type: 'button_reply' | 'list_reply'; id: string; title: string };

export function inboundView(input: SimulatorInput): InboundView {
  if (input.button_reply) return { type: 'button_reply', ...input.button_reply };
  if (input.list_reply) return { type: 'list_reply', id: input.list_reply.id, title: input.list_reply.title };
  return { type: 'text', text: input.text ?? '' };
}

/**
 * A Cloud API `messages` webhook body for one message, in Meta's documented shape (entry ->
 * changes -> value with metadata, contacts[0].profile.name, messages[0] with wamid and timestamp),
 * so the real parser reads it exactly as it reads Meta's.
 */
export function cloudPayload(input: SimulatorInput, wamid: string, nowMs: number): Record<string, unknown> {
  const message: Record<string, unknown> = {
    from: input.from,
    id: wamid,
    timestamp: String(Math.floor(nowMs / 1000)),
  };
  if (input.context) message.context = { from: SIMULATOR_NUMBER.display, id: input.context };
  if (input.button_reply) {
    message.type = 'interactive';
    message.interactive = { type: 'button_reply', button_reply: input.button_reply };
  } else if (input.list_reply) {
    message.type = 'interactive';
    message.interactive = { type: 'list_reply', list_reply: input.list_reply };
  } else {
    message.type = 'text';
    message.text = { body: input.text };
  }
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: SIMULATOR_NUMBER.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: SIMULATOR_NUMBER.display,
                phone_number_id: SIMULATOR_NUMBER.phoneNumberId,
              },
              contacts: [{ profile: { name: input.name }, wa_id: input.from }],
              messages: [message],
            },
          },
        ],
      },
    ],
  };
}

const encoder = new TextEncoder();

/**
 * `X-Hub-Signature-256` for a body, as Meta computes it: HMAC-SHA256 of the exact bytes with the
 * app secret. Web Crypto, so the simulator runs wherever the app does; this runs server-side
 * only, the secret never reaches the page.
 */
export async function signBody(body: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(body)));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
