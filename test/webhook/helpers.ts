import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InboundEvent } from '../../src/webhook/index.js';

const fixtureDir = fileURLToPath(new URL('../fixtures/webhook/', import.meta.url));

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${fixtureDir}${name}`));
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${fixtureDir}${name}`, 'utf8')) as Record<string, unknown>;
}

/** Narrows an event to one kind, failing the test with the actual kind if it differs. */
export function as<K extends InboundEvent['kind']>(
  event: InboundEvent | undefined,
  kind: K,
): Extract<InboundEvent, { kind: K }> {
  if (event?.kind !== kind) throw new Error(`expected a ${kind} event, got ${event?.kind ?? 'nothing'}`);
  return event as Extract<InboundEvent, { kind: K }>;
}

// Factories in Meta's documented webhook shape, for batches too large or varied for a fixture file.

export const PHONE_NUMBER_ID = '106540352242922';

export function cloudText(
  id: string,
  from: string,
  body: string,
  timestamp = '1749416383',
): Record<string, unknown> {
  return { from, id, timestamp, type: 'text', text: { body } };
}

export function cloudContact(waId: string, name: string): Record<string, unknown> {
  return { profile: { name }, wa_id: waId };
}

export function cloudValue(
  parts: { messages?: unknown[]; contacts?: unknown[]; statuses?: unknown[]; errors?: unknown[] },
  phoneNumberId = PHONE_NUMBER_ID,
): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
    ...parts,
  };
}

export function cloudBody(entries: Array<{ id: string; changes: unknown[] }>): Record<string, unknown> {
  return { object: 'whatsapp_business_account', entry: entries };
}

export function messagesChange(value: Record<string, unknown>): Record<string, unknown> {
  return { value, field: 'messages' };
}
