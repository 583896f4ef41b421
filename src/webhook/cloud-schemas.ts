/**
 * Zod schemas for the WhatsApp Cloud API `messages` webhook. Objects strip unknown keys (Meta keeps
 * adding fields); what the events rely on is required. Optional extras that are malformed fall back
 * to `undefined` via `.catch` so a bad `context` never costs the message itself.
 * Built once at module load: parsing a 1000-message body compiles nothing.
 */
import { z } from 'zod';
import { numberish, optionalString, unixSecondsToMs } from './shared.js';

const nonEmpty = z.string().min(1);

export const valueSchema = z.object({
  metadata: z.object({ phone_number_id: nonEmpty, display_phone_number: optionalString }),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

export const contactSchema = z.object({
  wa_id: optionalString,
  user_id: optionalString,
  parent_user_id: optionalString,
  profile: z.object({ name: optionalString, username: optionalString }).optional().catch(undefined),
});
export type CloudContact = z.infer<typeof contactSchema>;

const contextSchema = z.object({
  id: optionalString,
  from: optionalString,
  forwarded: z.boolean().optional(),
  frequently_forwarded: z.boolean().optional(),
  referred_product: z.object({ catalog_id: z.string(), product_retailer_id: z.string() }).optional(),
});

const referralSchema = z.object({
  source_url: optionalString,
  source_id: optionalString,
  source_type: optionalString,
  headline: optionalString,
  body: optionalString,
  media_type: optionalString,
  image_url: optionalString,
  video_url: optionalString,
  thumbnail_url: optionalString,
  ctwa_clid: optionalString,
  welcome_message: z.object({ text: optionalString }).optional().catch(undefined),
});

/** The part every inbound message shares; the type-specific payload is parsed separately. */
export const messageSchema = z.object({
  id: nonEmpty,
  timestamp: unixSecondsToMs,
  type: nonEmpty,
  from: nonEmpty.optional(),
  from_user_id: nonEmpty.optional(),
  from_parent_user_id: optionalString,
  group_id: optionalString,
  context: contextSchema.optional().catch(undefined),
  referral: referralSchema.optional().catch(undefined),
});
export type CloudMessage = z.infer<typeof messageSchema>;

export const textSchema = z.object({ body: z.string() });

export const mediaSchema = z.object({
  id: nonEmpty,
  mime_type: z.string(),
  sha256: optionalString,
  caption: optionalString,
  filename: optionalString,
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
  url: optionalString,
});

export const locationSchema = z.object({
  latitude: numberish,
  longitude: numberish,
  name: optionalString,
  address: optionalString,
  url: optionalString,
});

const typedEntry = <T extends z.ZodRawShape>(shape: T) =>
  z.array(z.object(shape)).optional().catch(undefined);

export const sharedContactSchema = z.object({
  name: z
    .object({ formatted_name: optionalString, first_name: optionalString, last_name: optionalString })
    .optional()
    .catch(undefined),
  phones: typedEntry({ phone: optionalString, wa_id: optionalString, type: optionalString }),
  emails: typedEntry({ email: z.string(), type: optionalString }),
  org: z.object({ company: optionalString }).optional().catch(undefined),
});
export const contactsSchema = z.array(sharedContactSchema);

export const interactiveSchema = z.object({
  type: nonEmpty,
  button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
  list_reply: z.object({ id: z.string(), title: z.string(), description: optionalString }).optional(),
  nfm_reply: z.object({ response_json: z.string(), name: optionalString, body: optionalString }).optional(),
});

export const buttonSchema = z.object({ payload: z.string(), text: z.string() });

export const reactionSchema = z.object({ message_id: nonEmpty, emoji: optionalString });

export const orderSchema = z.object({
  catalog_id: nonEmpty,
  text: optionalString,
  product_items: z.array(
    z.object({
      product_retailer_id: z.string(),
      quantity: numberish,
      item_price: numberish,
      currency: z.string(),
    }),
  ),
});

export const systemSchema = z.object({
  type: optionalString,
  body: optionalString,
  wa_id: optionalString,
  new_wa_id: z.union([z.string(), z.number()]).optional(),
  user_id: optionalString,
});

export const statusSchema = z.object({
  id: nonEmpty,
  status: z.enum(['sent', 'delivered', 'read', 'played', 'failed', 'deleted']),
  timestamp: unixSecondsToMs,
  recipient_id: optionalString,
  recipient_user_id: optionalString,
  biz_opaque_callback_data: optionalString,
  conversation: z
    .object({
      id: z.string(),
      expiration_timestamp: unixSecondsToMs.optional(),
      origin: z.object({ type: optionalString }).optional(),
    })
    .optional()
    .catch(undefined),
  pricing: z
    .object({
      billable: z.boolean().optional(),
      pricing_model: optionalString,
      category: optionalString,
      type: optionalString,
    })
    .optional()
    .catch(undefined),
  errors: z.array(z.unknown()).optional(),
});
