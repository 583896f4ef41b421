import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/store/keyed-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('KeyedQueue.runReporting', () => {
  it('runs one key in arrival order, other keys in parallel, and forgets a key once its last task is done', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string, ms: number) => async (done: () => void) => {
      try {
        log.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.push(`end ${name}`);
        return name;
      } finally {
        done();
      }
    };
    const a1 = queue.runReporting('a', task('a1', 20));
    const a2 = queue.runReporting('a', task('a2', 1));
    const b1 = queue.runReporting('b', task('b1', 1));
    expect(queue.size).toBe(2);
    expect(await Promise.all([a1, a2, b1])).toEqual(['a1', 'a2', 'b1']);
    // b1 ran while a1 was still running; a2 only after a1 ended.
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(queue.size).toBe(0);
  });

  it('forgets the key after a failing task, and the next task of that key still runs', async () => {
    const queue = new KeyedQueue();
    const failing = queue.runReporting('a', async (done) => {
      try {
        await tick();
        throw new Error('boom');
      } finally {
        done();
      }
    });
    const next = queue.runReporting('a', async (done) => {
      try {
        return 'ran';
      } finally {
        done();
      }
    });
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe('ran');
    expect(queue.size).toBe(0);
  });

  it('does not list a task that ended before runReporting returned', async () => {
    const queue = new KeyedQueue();
    const result = queue.runReporting('a', async (done) => {
      done();
      return 1;
    });
    expect(queue.size).toBe(0);
    expect(await result).toBe(1);
  });

  it('keeps the key while a later task of it is queued, even when an earlier one is done', async () => {
    const queue = new KeyedQueue();
    let release: () => void = () => {};
    const first = queue.runReporting('a', async (done) => {
      await tick();
      done();
    });
    const second = queue.runReporting('a', async (done) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      done();
    });
    await first;
    await tick();
    // The first task is done, but the second (the key's tail) is still running.
    expect(queue.size).toBe(1);
    release();
    await second;
    expect(queue.size).toBe(0);
  });
});

describe('KeyedQueue.run', () => {
  it('runs one key in order and forgets it once the last task settled, failed or not', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const first = queue.run('a', async () => {
      await tick();
      log.push('first');
      throw new Error('boom');
    });
    const second = queue.run('a', async () => {
      log.push('second');
      return 2;
    });
    expect(queue.size).toBe(1);
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe(2);
    expect(log).toEqual(['first', 'second']);
    await tick();
    expect(queue.size).toBe(0);
  });
});
