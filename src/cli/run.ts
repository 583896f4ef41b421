import { type CommandDef, renderUsage, runCommand } from 'citty';
import { ChatstateError } from '../errors.js';
import { EXIT } from './shared.js';

/**
 * citty's runMain, with chatstate's exit codes: citty exits 1 on a usage error, which would read
 * as "not found" from `session get`. Here usage errors and failures to reach an answer (bad
 * store URL, store down) exit 2, and a ChatstateError prints its message, which says how to fix it.
 */
export async function runCli(main: CommandDef, rawArgs = process.argv.slice(2)): Promise<void> {
  try {
    if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
      console.log(`${await usageOf(main, rawArgs)}\n`);
      return;
    }
    if (rawArgs.length === 1 && rawArgs[0] === '--version') {
      const meta = await resolve(main.meta);
      console.log(meta?.version ?? 'unknown');
      return;
    }
    await runCommand(main, { rawArgs });
  } catch (error) {
    const name = (error as Error | undefined)?.name;
    if (name === 'CLIError' || name === 'UsageError') {
      // Usage after a mistake goes to stderr, so `... > out.json` never captures help text.
      console.error(`${await usageOf(main, rawArgs)}\n\nchatstate: ${(error as Error).message}`);
    } else if (error instanceof ChatstateError) {
      console.error(`chatstate: ${error.message} (code ${error.code})`);
    } else {
      console.error('chatstate: unexpected error (please report it):', error);
    }
    process.exit(EXIT.error);
  }
}

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolve<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === 'function' ? (value as () => T | Promise<T>)() : value;
}

/**
 * The usage of the deepest command the arguments name (`session get --help`). citty titles a
 * command "<parent> <name>"; the parent passed here carries the full path, so the title reads
 * `chatstate session get`.
 */
async function usageOf(cmd: CommandDef, rawArgs: string[], path: string[] = []): Promise<string> {
  const subs = await resolve(cmd.subCommands);
  const index = rawArgs.findIndex((arg) => !arg.startsWith('-'));
  const name = rawArgs[index];
  const sub = subs && name !== undefined ? await resolve(subs[name]) : undefined;
  const own = (await resolve(cmd.meta))?.name ?? 'chatstate';
  if (sub) return usageOf(sub, rawArgs.slice(index + 1), [...path, own]);
  const text = await renderUsage(cmd, path.length ? { meta: { name: path.join(' ') } } : undefined);
  // citty marks code with backticks for consola to colour; plain text reads better in a terminal and a log.
  return text.replace(/`([^`]*)`/g, '$1').replace(/[ \t]+$/gm, '');
}
