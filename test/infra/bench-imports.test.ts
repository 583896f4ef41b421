import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The benchmark runners are not run by the suite (they take minutes), so a name one of them
// imports from another bench module and that module no longer exports would only show at the next
// `npm run bench`. This reads every named import between bench modules and checks the export.
const root = new URL('../..', import.meta.url).pathname;

function modules(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'results') modules(path, out);
    } else if (name.endsWith('.mjs')) out.push(path);
  }
  return out;
}

function exported(source: string, name: string): boolean {
  const declared = new RegExp(`export\\s+(async\\s+)?(function\\*?|const|let|class)\\s+${name}\\b`);
  // `export { a, b as c }` and `export const { a, b } = …`
  const listed = new RegExp(`export\\s*(const\\s*)?\\{[^}]*\\b${name}\\b[^}]*\\}`);
  return declared.test(source) || listed.test(source);
}

describe('bench modules', () => {
  it('export every name the other bench modules import from them', () => {
    const missing: string[] = [];
    const files = modules(join(root, 'bench'));
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const [, names = '', from = ''] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(\.[^']+)'/g)) {
        const target = resolve(dirname(file), from);
        if (!target.startsWith(join(root, 'bench'))) continue;
        const text = readFileSync(target, 'utf8');
        for (const name of names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0] ?? '')) {
          if (name && !exported(text, name)) missing.push(`${relative(root, file)}: ${name} from ${from}`);
        }
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});
