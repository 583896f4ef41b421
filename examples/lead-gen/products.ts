/** The catalogue the bot offers, as interactive list rows (title <= 24 chars, description <= 72). */
export const PRODUCTS = [
  { id: 'starter', title: 'Starter plan', description: '$19 / month, 1 number, 1,000 conversations' },
  { id: 'growth', title: 'Growth plan', description: '$49 / month, 3 numbers, 10,000 conversations' },
  { id: 'scale', title: 'Scale plan', description: '$99 / month, 10 numbers, unlimited conversations' },
  { id: 'setup', title: 'Setup session', description: '$150 once: one hour with an expert' },
];

export function productNames(ids: readonly string[] = []): string {
  return ids.map((id) => PRODUCTS.find((p) => p.id === id)?.title ?? id).join(', ') || 'nothing yet';
}
