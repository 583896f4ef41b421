/** The logging calls chatstate makes; pino (Node) or console (edge) fit it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Masks a phone number (or any user id) for logs: keeps the first 4 and last 2 characters, so
 * support can still tell users apart without logs holding personal data.
 */
export function maskUser(id: string): string {
  if (id.length <= 6) return '*'.repeat(id.length);
  return `${id.slice(0, 4)}${'*'.repeat(id.length - 6)}${id.slice(-2)}`;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
