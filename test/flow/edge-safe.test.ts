import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The flow engine is part of the Web-standard core: a `node:` import (or a bare builtin) anywhere
// under src/flow would break bots on edge runtimes silently.
const root = new URL('../../src/flow/', import.meta.url);
const BUILTIN = /^(node:|fs$|path$|crypto$|events$|buffer$|timers$|stream$|util$|os$|http$|https$|net$)/;

describe('src/flow is edge-safe', () => {
  it.each(readdirSync(root).filter((f) => f.endsWith('.ts')))('%s imports no Node builtin', (file) => {
    const source = readFileSync(new URL(file, root), 'utf8');
    const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map(
      (m) => m[1] ?? '',
    );
    expect(specifiers.filter((s) => BUILTIN.test(s))).toEqual([]);
  });
});
