// A minimal SVG writer for the benchmark charts: elements as strings, every attribute value and text
// escaped, so a label containing <, & or quotes can never break the document.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value safe inside XML. */
export const escapeXml = (value) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Numbers in coordinates: at most 2 decimals, so the file stays small and diffs stay readable. */
const coord = (v) => (typeof v === 'number' ? String(Math.round(v * 100) / 100) : v);

/**
 * `<name attr="…">children</name>`; attributes with null/undefined values are left out; `children`
 * are strings already produced by el() or text(), or arrays of them.
 */
export function el(name, attrs = {}, ...children) {
  const list = Object.entries(attrs)
    .filter(([, v]) => v !== null && v !== undefined && v !== false)
    .map(([k, v]) => ` ${k}="${escapeXml(coord(v))}"`)
    .join('');
  const inner = children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false);
  return inner.length ? `<${name}${list}>${inner.join('')}</${name}>` : `<${name}${list}/>`;
}

/** A text node. */
export const text = (value) => escapeXml(value);

/** Rough width of `value` in px at `size` px in a proportional sans-serif (no font metrics here). */
export const textWidth = (value, size) => String(value).length * size * 0.56;

/** Fonts every viewer has: GitHub shows the SVG as an image, so nothing can be loaded. */
export const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";
