import { ChatstateError } from '../../errors.js';
import { LIMITS } from './limits.js';
import type { CloudMessage, InteractiveHeader, ListMessage, MediaSource, TemplateMessage } from './types.js';

// Where Meta documents no length limit we only check presence: an invented limit would reject
// messages Meta accepts.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

function invalid(field: string, problem: string, details: Record<string, unknown> = {}): never {
  throw new ChatstateError('REPLY_INVALID', `${field} ${problem}. The message was not sent.`, {
    component: 'whatsapp-cloud',
    details: { field, ...details },
  });
}

/** Characters as people (and Meta's limits) count them: code points, not UTF-16 units. */
function charCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function checkText(field: string, value: unknown, max: number, required = true): void {
  if (value === undefined) {
    if (!required) return;
    invalid(field, 'is required', max === UNLIMITED ? {} : { limit: max });
  }
  if (typeof value !== 'string') invalid(field, `must be a string, got ${typeof value}`);
  if (value.trim().length === 0) {
    if (required) invalid(field, 'is empty', max === UNLIMITED ? {} : { limit: max });
    invalid(field, 'is empty; leave it out instead', max === UNLIMITED ? {} : { limit: max });
  }
  // value.length (UTF-16 units) >= code points, so only long strings need the exact count.
  if (value.length > max) {
    const length = charCount(value);
    if (length > max)
      invalid(field, `is ${length} characters; the limit is ${max}`, { limit: max, actual: length });
  }
}

function checkId(field: string, value: unknown, max: number): void {
  checkText(field, value, max);
  if ((value as string).trim() !== value) invalid(field, 'has leading or trailing spaces');
}

function checkMedia(field: string, media: MediaSource | undefined): void {
  if (typeof media !== 'object' || media === null) invalid(field, 'must be { id } or { link }');
  const hasId = media.id !== undefined;
  const hasLink = media.link !== undefined;
  if (hasId === hasLink) invalid(field, 'must have exactly one of id (uploaded media) or link (public URL)');
  if (hasId) checkText(`${field}.id`, media.id, UNLIMITED);
  else if (typeof media.link !== 'string' || !/^https?:\/\/\S+$/i.test(media.link)) {
    invalid(`${field}.link`, 'must be an http(s) URL');
  }
}

function checkCaptionAbsent(message: object, kind: string): void {
  if ('caption' in message && (message as { caption?: unknown }).caption !== undefined) {
    invalid('message.caption', `is not supported on ${kind} messages`);
  }
}

function checkHeader(header: InteractiveHeader | undefined): void {
  if (header === undefined) return;
  if (header.type === 'text') checkText('message.header.text', header.text, LIMITS.buttons.headerText);
  else if (header.type === 'image' || header.type === 'video' || header.type === 'document') {
    checkMedia('message.header.media', header.media);
  } else invalid('message.header.type', 'must be text, image, video or document');
}

function checkUnique(field: string, values: string[], what: string): void {
  const seen = new Set<string>();
  for (const [index, value] of values.entries()) {
    if (seen.has(value))
      invalid(`${field}[${index}]`, `repeats the ${what} "${value}"; ${what}s must be unique`);
    seen.add(value);
  }
}

function checkButtons(message: Extract<CloudMessage, { type: 'buttons' }>): void {
  const b = LIMITS.buttons;
  checkText('message.body', message.body, b.body);
  checkText('message.footer', message.footer, b.footer, false);
  checkHeader(message.header);
  if (!Array.isArray(message.buttons) || message.buttons.length === 0) invalid('message.buttons', 'is empty');
  if (message.buttons.length > b.max) {
    invalid('message.buttons', `has ${message.buttons.length} buttons; the limit is ${b.max}`, {
      limit: b.max,
      actual: message.buttons.length,
    });
  }
  message.buttons.forEach((button, i) => {
    checkId(`message.buttons[${i}].id`, button.id, b.id);
    checkText(`message.buttons[${i}].title`, button.title, b.title);
  });
  checkUnique(
    'message.buttons',
    message.buttons.map((x) => x.id),
    'button id',
  );
  checkUnique(
    'message.buttons',
    message.buttons.map((x) => x.title),
    'button title',
  );
}

function checkList(message: ListMessage): void {
  const l = LIMITS.list;
  checkText('message.body', message.body, l.body);
  checkText('message.button', message.button, l.button);
  checkText('message.header', message.header, l.headerText, false);
  checkText('message.footer', message.footer, l.footer, false);
  if (!Array.isArray(message.sections) || message.sections.length === 0)
    invalid('message.sections', 'is empty');
  if (message.sections.length > l.sections) {
    invalid('message.sections', `has ${message.sections.length} sections; the limit is ${l.sections}`, {
      limit: l.sections,
      actual: message.sections.length,
    });
  }
  const ids: string[] = [];
  message.sections.forEach((section, s) => {
    const field = `message.sections[${s}]`;
    // Meta requires section titles once there is more than one section.
    checkText(`${field}.title`, section.title, l.sectionTitle, message.sections.length > 1);
    if (!Array.isArray(section.rows) || section.rows.length === 0) invalid(`${field}.rows`, 'is empty');
    section.rows.forEach((row, r) => {
      checkId(`${field}.rows[${r}].id`, row.id, l.rowId);
      checkText(`${field}.rows[${r}].title`, row.title, l.rowTitle);
      checkText(`${field}.rows[${r}].description`, row.description, l.rowDescription, false);
      ids.push(row.id);
    });
  });
  if (ids.length > l.rowsTotal) {
    invalid(
      'message.sections',
      `hold ${ids.length} rows in total; the limit is ${l.rowsTotal} across all sections`,
      {
        limit: l.rowsTotal,
        actual: ids.length,
      },
    );
  }
  checkUnique('message.sections[].rows', ids, 'row id');
}

function checkTemplate(message: TemplateMessage): void {
  checkText('message.name', message.name, LIMITS.templateName);
  checkText('message.language', message.language, UNLIMITED);
  if (message.components === undefined) return;
  if (!Array.isArray(message.components)) invalid('message.components', 'must be an array');
  message.components.forEach((component, i) => {
    const field = `message.components[${i}]`;
    if (typeof component?.type !== 'string') invalid(`${field}.type`, 'is missing');
    if (component.type === 'button' && (component.sub_type === undefined || component.index === undefined)) {
      invalid(field, 'is a button component; it needs sub_type and index');
    }
    component.parameters?.forEach((parameter, p) => {
      if (parameter.type === 'text') checkText(`${field}.parameters[${p}].text`, parameter.text, UNLIMITED);
    });
  });
}

const singleGrapheme = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const emojiLike = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** Throws REPLY_INVALID (naming the field and the limit) when the message breaks a documented limit. */
export function validateMessage(message: CloudMessage): void {
  if (typeof message !== 'object' || message === null) invalid('message', 'must be an object');
  switch (message.type) {
    case 'text':
      return checkText('message.text', message.text, LIMITS.textBody);
    case 'image':
    case 'video':
      checkMedia('message.media', message.media);
      return checkText('message.caption', message.caption, LIMITS.mediaCaption, false);
    case 'document':
      checkMedia('message.media', message.media);
      checkText('message.caption', message.caption, LIMITS.mediaCaption, false);
      return checkText('message.filename', message.filename, UNLIMITED, false);
    case 'audio':
    case 'sticker':
      checkMedia('message.media', message.media);
      return checkCaptionAbsent(message, message.type);
    case 'location':
      if (!Number.isFinite(message.latitude) || Math.abs(message.latitude) > 90) {
        invalid('message.latitude', 'must be a number between -90 and 90');
      }
      if (!Number.isFinite(message.longitude) || Math.abs(message.longitude) > 180) {
        invalid('message.longitude', 'must be a number between -180 and 180');
      }
      checkText('message.name', message.name, UNLIMITED, false);
      return checkText('message.address', message.address, UNLIMITED, false);
    case 'reaction': {
      checkId('message.messageId', message.messageId, UNLIMITED);
      if (typeof message.emoji !== 'string')
        invalid('message.emoji', 'must be a string ("" removes the reaction)');
      if (message.emoji === '') return;
      const graphemes = [...singleGrapheme.segment(message.emoji)].length;
      if (graphemes !== 1 || !emojiLike.test(message.emoji)) {
        invalid('message.emoji', 'must be exactly one emoji, or "" to remove the reaction');
      }
      return;
    }
    case 'buttons':
      return checkButtons(message);
    case 'list':
      return checkList(message);
    case 'template':
      return checkTemplate(message);
    default:
      invalid(
        'message.type',
        `"${String((message as { type?: unknown }).type)}" is not a message type this client sends`,
      );
  }
}

/** The recipient must look like a WhatsApp user id or phone number before anything is queued. */
export function validateRecipient(to: unknown): asserts to is string {
  if (typeof to !== 'string' || !/^\+?[0-9A-Za-z._-]{3,64}$/.test(to)) {
    invalid('to', 'must be the user’s WhatsApp number (digits, optional leading +)');
  }
}
