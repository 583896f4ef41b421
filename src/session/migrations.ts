import { ChatstateError } from '../errors.js';
import type { Session, Vars } from './types.js';

/** Upgrades a session's vars from schema version N (the key) to N + 1. */
export type Migration = (vars: Vars, session: Readonly<Session>) => Vars;
export type Migrations = Record<number, Migration>;

/** Brings a loaded session up to `target`, one registered step at a time. */
export function migrate(session: Session, target: number, migrations: Migrations): Session {
  if (session.schema === target) return session;
  if (session.schema > target) {
    throw new ChatstateError(
      'SCHEMA_TOO_NEW',
      `session ${session.id} has schema version ${session.schema} but this process knows version ${target}: deploy the newer code or register a downgrade and raise schemaVersion.`,
      { component: 'migrations', details: { stored: session.schema, target } },
    );
  }
  let current = session;
  while (current.schema < target) {
    const step = migrations[current.schema];
    if (!step) {
      throw new ChatstateError(
        'SCHEMA_MIGRATION_MISSING',
        `no migration registered from schema version ${current.schema} to ${current.schema + 1}: add migrations[${current.schema}] to the store options.`,
        { component: 'migrations', details: { from: current.schema, target } },
      );
    }
    current = { ...current, vars: step({ ...current.vars }, current), schema: current.schema + 1 };
  }
  return current;
}
