/**
 * A strict, small XML parser for generated documents (the benchmark SVG charts): it throws on
 * anything that is not well-formed (unbalanced or crossed tags, unquoted or repeated attributes, a
 * bare `&` or `<` in text, more than one root), so a test can prove a renderer emits valid XML
 * without a parser dependency. Not a general XML parser: no DTD, CDATA or namespaces handling.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Decoded text directly inside this element. */
  text: string;
}

const NAME = /^[A-Za-z_][-\w.:]*$/;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function decode(raw: string, where: string): string {
  const bare = raw.replace(ENTITY, '');
  if (bare.includes('&')) throw new Error(`bare & in ${where}: ${raw.slice(0, 80)}`);
  if (bare.includes('<')) throw new Error(`bare < in ${where}: ${raw.slice(0, 80)}`);
  return raw.replace(ENTITY, (e) => {
    const named: Record<string, string> = {
      '&amp;': '&',
      '&lt;': '<',
      '&gt;': '>',
      '&quot;': '"',
      '&apos;': "'",
    };
    if (named[e]) return named[e];
    const code = e[2] === 'x' ? Number.parseInt(e.slice(3, -1), 16) : Number(e.slice(2, -1));
    return String.fromCodePoint(code);
  });
}

function parseAttrs(source: string, tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  let rest = source;
  while (rest.trim()) {
    const m = /^\s+([A-Za-z_:][-\w.:]*)="([^"]*)"/.exec(rest);
    if (!m) throw new Error(`malformed attributes in <${tag}>: ${rest.slice(0, 80)}`);
    const [whole, key = '', value = ''] = m;
    if (key in attrs) throw new Error(`attribute ${key} repeated in <${tag}>`);
    attrs[key] = decode(value, `attribute ${key} of <${tag}>`);
    rest = rest.slice(whole.length);
  }
  return attrs;
}

export function parseXml(source: string): XmlElement {
  const doc = source.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let last = 0;
  for (const match of doc.matchAll(/<[^<>]*>/g)) {
    const between = doc.slice(last, match.index);
    last = match.index + match[0].length;
    const top = stack.at(-1);
    if (top) top.text += decode(between, `<${top.name}>`);
    else if (between.trim()) throw new Error(`text outside the root element: ${between.slice(0, 80)}`);
    const tag = match[0];
    if (tag.startsWith('<!--')) continue;
    if (tag.startsWith('</')) {
      const name = tag.slice(2, -1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/>');
    const body = tag.slice(1, selfClosing ? -2 : -1);
    const name = /^[^\s/>]+/.exec(body)?.[0] ?? '';
    if (!NAME.test(name)) throw new Error(`bad element name in ${tag.slice(0, 80)}`);
    const element: XmlElement = {
      name,
      attrs: parseAttrs(body.slice(name.length), name),
      children: [],
      text: '',
    };
    if (top) top.children.push(element);
    else if (root) throw new Error(`second root element <${name}>`);
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  const tail = doc.slice(last);
  if (tail.trim() || tail.includes('<'))
    throw new Error(`content after the root element: ${tail.slice(0, 80)}`);
  if (stack.length) throw new Error(`unclosed <${stack.map((e) => e.name).join('> <')}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element under `root` (root included), depth first, document order. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}
