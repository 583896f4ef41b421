#!/usr/bin/env node
import { defineCommand, runMain } from 'citty';
import { serveCommand } from './serve.js';

const main = defineCommand({
  meta: { name: 'chatstate', description: 'The state engine for WhatsApp chatbots.' },
  subCommands: { serve: serveCommand },
});

runMain(main);
