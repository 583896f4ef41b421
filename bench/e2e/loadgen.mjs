// The end-to-end load generator: virtual WhatsApp users that send signed Cloud API text webhooks
// over keep-alive HTTP/1.1 connections (raw-http.mjs) and wait for the bot's reply to reach the Graph API sink.
// Latency is webhook send -> arrival of the message's first reply at the sink, on a clock shared
// by the processes (performance.timeOrigin + now()). Replies to a user arrive in order (the
// runtime delivers per user in order), so the k-th reply of a user is attributed by counting:
// each message says how many replies it produces, and its first reply is the next one expected.
import { nextMessageId, userIds } from '../lib/workload.mjs';
import { cloudTextBody, sign } from '../webhook/pool.mjs';
import { wallMs } from './graph-sink.mjs';
import { rawPoster } from './raw-http.mjs';

/** Business phone numbers (metadata.phone_number_id) the users are spread over, round-robin. */
export const phoneNumberIds = (n) =>
  Array.from({ length: n }, (_, i) => `1065403522${String(i).padStart(5, '0')}`);

/**
 * What each user says, in turn, and how many replies the lead-gen demo bot sends for it:
 * "reset" (a command, any step) restarts the flow: greeting + "What is your name?" (2 replies);
 * a name at ask_name moves to ask_email: "Nice to meet you, …" (1 reply). Then "reset" again.
 */
export const SCRIPT = [
  { text: 'reset', replies: 2 },
  { text: 'Ada Lovelace', replies: 1 },
];

/** A user whose every message is acknowledged at once (the bare server): the "reply" is the 200. */
export const ACK_ONLY = [{ text: 'message to the bare server', replies: 0 }];

export function createUsers({ count, numbers, script }) {
  const ids = phoneNumberIds(numbers);
  return userIds(count).map((waId, i) => ({
    waId,
    phoneNumberId: ids[i % numbers],
    script,
    sent: 0,
    expected: 0, // replies expected for everything sent so far
    received: 0,
    waiting: null,
    retired: false,
  }));
}

/**
 * A load generator bound to one server and one population of users. `arrival(to, atMs)` must be
 * called for every message the sink accepts.
 */
export function createLoad({ url, users, secret, sockets, replyTimeoutMs }) {
  const post = rawPoster(url, { sockets });
  const byWaId = new Map(users.map((u) => [u.waId, u]));
  const idle = [...users];
  const waiting = new Set();
  let stats = freshStats();
  let inFlight = 0;
  let settled = null;

  function freshStats() {
    return {
      from: 0,
      to: Number.POSITIVE_INFINITY,
      latency: [],
      ackLatency: [],
      completed: 0,
      sent: 0,
      non200: 0,
      timeouts: 0,
      noIdleUser: 0,
    };
  }

  function finish(u, atMs) {
    const w = u.waiting;
    u.waiting = null;
    waiting.delete(u);
    if (w.sentAt >= stats.from && w.sentAt < stats.to) stats.latency.push(atMs - w.sentAt);
    if (atMs >= stats.from && atMs < stats.to) stats.completed++;
    w.resolve();
  }

  function arrival(to, atMs) {
    const u = byWaId.get(to);
    if (u === undefined) return;
    u.received++;
    const w = u.waiting;
    if (w === null || w.doneAt !== null || u.received < w.index) return;
    w.doneAt = atMs;
    // Before the acknowledgement reached us the exchange is not waiting yet: it finishes at the ack.
    if (w.resolve !== null) finish(u, atMs);
  }

  // One sweep per 100 ms instead of a timer per message.
  const sweeper = setInterval(() => {
    const now = wallMs();
    for (const u of waiting) {
      if (now - u.waiting.sentAt < replyTimeoutMs) continue;
      if (u.waiting.sentAt >= stats.from && u.waiting.sentAt < stats.to) stats.timeouts++;
      // Its reply may still come and would be taken for the next message's: retire the user.
      u.retired = true;
      const { resolve } = u.waiting;
      u.waiting = null;
      waiting.delete(u);
      resolve();
    }
  }, 100);

  /** One message of one user, until its first reply (or its ack, for a script without replies). */
  async function exchange(u) {
    const step = u.script[u.sent % u.script.length];
    u.sent++;
    const body = Buffer.from(
      cloudTextBody({
        id: nextMessageId(u.waId),
        from: u.waId,
        text: step.text,
        timestamp: Math.floor(Date.now() / 1000),
        phoneNumberId: u.phoneNumberId,
      }),
    );
    const index = u.expected + 1;
    u.expected += step.replies;
    const sentAt = wallMs();
    const inWindow = sentAt >= stats.from && sentAt < stats.to;
    if (inWindow) stats.sent++;
    const w = { index, sentAt, doneAt: null, resolve: null };
    if (step.replies > 0) u.waiting = w;
    const status = await post(body, sign(body, secret));
    const ackedAt = wallMs();
    if (inWindow) stats.ackLatency.push(ackedAt - sentAt);
    if (status !== 200) {
      // Not recorded by the server: no reply will come for it.
      u.expected -= step.replies;
      u.waiting = null;
      if (inWindow) stats.non200++;
      return;
    }
    if (step.replies === 0) {
      if (inWindow) stats.latency.push(ackedAt - sentAt);
      if (ackedAt >= stats.from && ackedAt < stats.to) stats.completed++;
      return;
    }
    await new Promise((resolve) => {
      w.resolve = resolve;
      if (w.doneAt !== null) finish(u, w.doneAt);
      else waiting.add(u);
    });
  }

  function launch(u) {
    inFlight++;
    return exchange(u).finally(() => {
      inFlight--;
      if (!u.retired) idle.push(u);
      if (inFlight === 0 && settled) settled();
    });
  }

  function window(durationMs) {
    stats = freshStats();
    stats.from = wallMs();
    stats.to = stats.from + durationMs;
    return stats;
  }

  /** Waits for every exchange in flight (each ends at its reply or its timeout). */
  function quiesce() {
    if (inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      settled = () => {
        settled = null;
        resolve();
      };
    });
  }

  return {
    arrival,
    /** `concurrency` users in flight at all times, each sending again as soon as its reply came. */
    async closed({ concurrency, durationMs }) {
      const s = window(durationMs);
      const worker = async () => {
        while (wallMs() < s.to) {
          const u = idle.shift();
          if (u === undefined) {
            s.noIdleUser++;
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          await launch(u);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      await quiesce();
      return summarize(s, durationMs);
    },
    /** A new message every 1/rate s whatever the replies (a user with nothing in flight sends it). */
    async open({ rate, durationMs }) {
      const s = window(durationMs);
      let due = 0;
      await new Promise((resolve) => {
        const tick = () => {
          const now = wallMs();
          if (now >= s.to) return resolve();
          const target = Math.floor(((now - s.from) * rate) / 1000);
          for (; due < target; due++) {
            const u = idle.shift();
            if (u === undefined) s.noIdleUser++;
            else void launch(u);
          }
          setTimeout(tick, 1);
        };
        tick();
      });
      await quiesce();
      return { offered: rate, ...summarize(s, durationMs) };
    },
    /** Replies received minus expected, over every user: > 0 duplicates, < 0 missing. */
    balance() {
      let extra = 0;
      let missing = 0;
      for (const u of users) {
        const d = u.received - u.expected;
        if (d > 0) extra += d;
        else if (d < 0 && !u.retired) missing -= d;
      }
      return { extra, missing, retired: users.filter((u) => u.retired).length };
    },
    close() {
      clearInterval(sweeper);
      post.close();
    },
  };
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summarize(s, durationMs) {
  const lat = Float64Array.from(s.latency).sort();
  const ack = Float64Array.from(s.ackLatency).sort();
  return {
    durationS: durationMs / 1000,
    sent: s.sent,
    completed: s.completed,
    perSec: s.completed / (durationMs / 1000),
    latencyMs: {
      p50: quantile(lat, 0.5),
      p90: quantile(lat, 0.9),
      p99: quantile(lat, 0.99),
      max: quantile(lat, 1),
    },
    ackMs: { p50: quantile(ack, 0.5), p99: quantile(ack, 0.99) },
    samples: lat.length,
    non200: s.non200,
    timeouts: s.timeouts,
    noIdleUser: s.noIdleUser,
  };
}
