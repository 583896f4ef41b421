import type { StoredRecord } from './contract.js';

/** The bytes to keep in quarantine for a record that did not decode: the body, or the hash as JSON. */
export function rawBytesOf(record: StoredRecord): Uint8Array {
  if ('body' in record) return record.body;
  const text = (v: string | Uint8Array) => (typeof v === 'string' ? v : `base64:${toBase64(v)}`);
  const fields = Object.fromEntries(Object.entries(record.fields).map(([k, v]) => [k, text(v)]));
  return new TextEncoder().encode(JSON.stringify({ fields, history: (record.history ?? []).map(text) }));
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
