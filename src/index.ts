export * from './channels/index.js';
export { ChatstateError, ERROR_CODES, type ErrorCode, isChatstateError } from './errors.js';
export * from './flow/index.js';
export { type Bot, type BotContext, describeEvent, rememberBot } from './runtime/bot.js';
export { Dispatcher, type DispatcherOptions } from './runtime/dispatcher.js';
export { type Logger, maskUser } from './runtime/log.js';
export type { RuntimeMetrics } from './runtime/metrics.js';
export { type AppOptions, type ChatstateApp, createApp } from './server/app.js';
export { loadConfig, type ServerConfig } from './server/config.js';
export type { Codec, CodecName } from './session/codec.js';
export { codecByName } from './session/codec.js';
export { type NumericKeys, SessionDraft } from './session/draft.js';
export type { Migration, Migrations } from './session/migrations.js';
export { applyPatch, emptySession } from './session/patch.js';
export type { HistoryEntry, JsonValue, MediaRef, Session, SessionPatch, Vars } from './session/types.js';
export type * from './store/contract.js';
export { DEFAULT_STORE_URL, type DriverLoader, openStore, redact, registerDriver } from './store/open.js';
export type { StoreObserver, StoreOptions } from './store/options.js';
export {
  SessionStore,
  type TransitionHandler,
  type TransitionOptions,
  type TransitionResult,
  type UserLease,
} from './store/session-store.js';
export * from './webhook/index.js';
