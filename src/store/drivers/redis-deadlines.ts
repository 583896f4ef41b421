import type { Command } from 'ioredis';

/**
 * Command timeouts for the driver's script calls, one timer per client timeout instead of one per
 * command. ioredis starts a timer for every command sent with `commandTimeout` and clears it when
 * the reply comes: two timers per transition, at tens of thousands of transitions a second.
 * Every command in one queue has the same timeout, so deadlines expire in the order the commands
 * were added, whatever connection or cluster node they went to: a FIFO queue whose head is the
 * next deadline. Answered commands are dropped from the head as new ones arrive; replies on one
 * connection come back in order, so the queue holds about what is in flight (behind a command
 * still waiting on a slow node, at most one timeout's worth).
 */
class Deadlines {
  readonly #ms: number;
  // Slots before #head are cleared, so an answered command is not kept alive (into the old generation) by the queue.
  #commands: Array<Command | undefined> = [];
  #at: number[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(command: Command): void {
    this.#dropAnswered();
    this.#commands.push(command);
    this.#at.push(performance.now() + this.#ms);
    if (this.#timer === undefined) this.#arm(this.#ms);
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(delay)));
    // The sockets of the commands in flight keep the process alive, as ioredis's own timers do not need to.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head < this.#commands.length) {
      const command = this.#commands[this.#head] as Command;
      if (!command.isResolved) {
        if ((this.#at[this.#head] as number) > now) break;
        // The message ioredis uses, which redis-errors.ts maps to STORE_TIMEOUT.
        command.reject(new Error('Command timed out'));
      }
      this.#commands[this.#head++] = undefined;
    }
    this.#compact();
    if (this.#head < this.#commands.length) this.#arm((this.#at[this.#head] as number) - now);
  }

  #dropAnswered(): void {
    while (this.#head < this.#commands.length && (this.#commands[this.#head] as Command).isResolved)
      this.#commands[this.#head++] = undefined;
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#commands.length) {
      if (this.#head > 0) {
        this.#commands = [];
        this.#at = [];
        this.#head = 0;
      }
    } else if (this.#head > 1024 && this.#head * 2 > this.#commands.length) {
      this.#commands = this.#commands.slice(this.#head);
      this.#at = this.#at.slice(this.#head);
      this.#head = 0;
    }
  }
}

const byTimeout = new Map<number, Deadlines>();

/** Rejects `command` with "Command timed out" if it has no reply after `ms`. */
export function setDeadline(command: Command, ms: number): void {
  let deadlines = byTimeout.get(ms);
  if (deadlines === undefined) {
    deadlines = new Deadlines(ms);
    byTimeout.set(ms, deadlines);
  }
  deadlines.add(command);
}
