import { z } from 'zod';
import type { IgnoredItem, InboundEvent, WebhookError } from './events.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Unix seconds as Meta sends them (a digit string) or as a number; becomes milliseconds. */
export const unixSecondsToMs = z
  .union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()])
  .transform((v) => Number(v) * 1000);

/** A number that some payloads send as a numeric string (prices, quantities, coordinates). */
export const numberish = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

export const optionalString = z.string().optional();

export const errorSchema = z.object({
  code: z.number().int(),
  title: optionalString,
  message: optionalString,
  error_data: z.object({ details: optionalString }).optional().catch(undefined),
  href: optionalString,
});

export type RawError = z.infer<typeof errorSchema>;

export function toWebhookError(raw: RawError): WebhookError {
  const error: WebhookError = { code: raw.code, title: raw.title ?? raw.message ?? '' };
  if (raw.message !== undefined) error.message = raw.message;
  if (raw.error_data?.details !== undefined) error.details = raw.error_data.details;
  if (raw.href !== undefined) error.href = raw.href;
  return error;
}

/** Lenient list of errors: entries that are not error objects are skipped, not fatal. */
export function parseErrors(value: unknown): WebhookError[] {
  if (!Array.isArray(value)) return [];
  const out: WebhookError[] = [];
  for (const item of value) {
    const parsed = errorSchema.safeParse(item);
    if (parsed.success) out.push(toWebhookError(parsed.data));
  }
  return out;
}

/** First zod issue as `path: message`, enough to find the field without dumping the payload. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

export class Collector {
  readonly events: InboundEvent[] = [];
  readonly ignored: IgnoredItem[] = [];
  private readonly seenMessageIds = new Set<string>();

  ignore(reason: string, path: string, detail?: string): void {
    this.ignored.push(detail === undefined ? { reason, path } : { reason, path, detail });
  }

  /**
   * Within one body a message id counts once. Across bodies (Meta retries for days) dedupe is the
   * inbox claim's job; this only keeps a single payload from producing the same message twice.
   */
  firstSighting(messageId: string, path: string): boolean {
    if (this.seenMessageIds.has(messageId)) {
      this.ignore('duplicate_in_body', path, messageId);
      return false;
    }
    this.seenMessageIds.add(messageId);
    return true;
  }
}
