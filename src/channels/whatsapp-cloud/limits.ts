/**
 * Limits Meta documents for outbound Cloud API messages (checked in Nov 2026 against the
 * "Interactive reply buttons messages", "Interactive list messages", "Text messages", media message
 * and "Reaction messages" pages of the WhatsApp Business Platform docs). Lengths are in characters.
 * Validating them locally turns a 400 from Meta (after a network round trip, often inside a
 * transition that already committed) into an error at the call site that names the field.
 */
export const LIMITS = {
  textBody: 4096,
  mediaCaption: 1024,
  buttons: { max: 3, title: 20, id: 256, body: 1024, headerText: 60, footer: 60 },
  list: {
    button: 20,
    sections: 10,
    rowsTotal: 10,
    rowTitle: 24,
    rowDescription: 72,
    rowId: 200,
    sectionTitle: 24,
    body: 4096,
    headerText: 60,
    footer: 60,
  },
  templateName: 512,
} as const;
