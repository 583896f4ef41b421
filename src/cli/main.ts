#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { defineCommand } from 'citty';
import { benchCommand } from './bench/command.js';
import { doctorCommand } from './doctor.js';
import { runCli } from './run.js';
import { serveCommand } from './serve.js';
import { sessionCommand } from './session.js';

// package.json sits two levels up from both src/cli/ and dist/cli/.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const main = defineCommand({
  meta: {
    name: 'chatstate',
    version,
    description:
      'The state engine for WhatsApp chatbots. Exit codes: 0 ok, 1 negative answer (not found, doctor check failed), 2 usage error or store unreachable.',
  },
  subCommands: { serve: serveCommand, session: sessionCommand, doctor: doctorCommand, bench: benchCommand },
});

await runCli(main);
