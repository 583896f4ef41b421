// Build: generate TS modules from sources that are not TS (Lua scripts), then compile with tsc.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

if (existsSync('scripts/gen-lua.mjs')) run(process.execPath, ['scripts/gen-lua.mjs']);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
// The examples import the package by its own name ('chatstate/flow'), exactly as a user's bot
// does, so they compile against the build above.
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.examples.json']);
