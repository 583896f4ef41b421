import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The reply clients must run on edge runtimes (Workers, Deno, Bun): Web APIs only. A `node:`
// import (or a bare Node builtin) anywhere under src/channels would break that silently. The one
// exception is src/channels/node/, the Node adapter (a node:http transport `chatstate serve` passes
// in as `fetch`), which no edge-safe file may import.
const root = new URL('../../src/channels/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? join(dir, entry.name) === join(root, 'node')
        ? []
        : files(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const BUILTINS = [
  'fs',
  'http',
  'https',
  'net',
  'crypto',
  'events',
  'buffer',
  'timers',
  'stream',
  'os',
  'path',
  'util',
];

describe('src/channels is edge-safe', () => {
  it.each(files(root).map((file) => [file.slice(root.length), file]))(
    '%s imports no Node builtin',
    (_name, file) => {
      const source = readFileSync(file, 'utf8');
      const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map(
        (m) => m[1] ?? '',
      );
      for (const specifier of specifiers) {
        expect(specifier.startsWith('node:')).toBe(false);
        expect(BUILTINS).not.toContain(specifier);
        // Only relative imports: the clients carry no third-party dependency either.
        expect(specifier.startsWith('.')).toBe(true);
        expect(specifier).not.toMatch(/(^|\/)node\//);
      }
      expect(source).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/);
    },
  );
});
