import { ChatstateError } from '../../errors.js';

/** What an error message needs to say where the failure happened. */
export interface ErrorScope {
  /** The server, as shown to people: the URL with its password hidden, or host:port of a given client. */
  where: string;
  commandTimeoutMs: number | undefined;
}

/**
 * Turns an ioredis failure into a typed error. ioredis reports most conditions only by message,
 * so this matches on message text; anything unknown is STORE_UNAVAILABLE with the original cause.
 */
export function storeError(error: unknown, op: string, scope: ErrorScope): unknown {
  if (error instanceof ChatstateError || error instanceof TypeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const fail = (code: 'STORE_TIMEOUT' | 'STORE_UNAVAILABLE', text: string) =>
    new ChatstateError(code, `${op} on ${scope.where} failed: ${text}`, {
      component: 'redis',
      cause: error,
      details: { op, reply: message.slice(0, 200) },
    });
  if (message === 'Command timed out') {
    return fail(
      'STORE_TIMEOUT',
      `no answer within commandTimeoutMs=${scope.commandTimeoutMs}. The server is blocked, overloaded or unreachable; check it (SLOWLOG, latency) or raise ?timeout= in the URL. The command may still have run.`,
    );
  }
  const reply = /^([A-Z]+)\b/.exec(message)?.[1] ?? '';
  const byReply: Record<string, string> = {
    OOM: 'Redis is out of memory (maxmemory reached with noeviction). Raise maxmemory or lower session TTLs; nothing was written.',
    READONLY:
      'the server is a read-only replica. Point the URL at the master (or use redis+cluster:// for a cluster).',
    LOADING: 'Redis is still loading its data after a restart. Retry in a moment.',
    MASTERDOWN: 'the replica lost its master. Check the master and replication.',
    NOAUTH: 'authentication is required. Put the password in the URL: redis://:password@host:port.',
    WRONGPASS: 'the user name or password was refused. Check the credentials in the URL.',
    NOPERM:
      'the Redis user lacks a permission chatstate needs (EVALSHA, EVAL, SET, DEL, SCAN, PUBLISH, INFO). Grant them with ACL SETUSER.',
    CLUSTERDOWN:
      'the cluster is down (slots uncovered or a majority of masters unreachable). Check CLUSTER INFO.',
    CROSSSLOT: 'keys of one operation hashed to different slots. This is a chatstate bug: please report it.',
    BUSY: 'Redis is busy running a long script. Wait, or SCRIPT KILL it.',
  };
  const known = byReply[reply];
  if (known) return fail('STORE_UNAVAILABLE', `${message.split('\n')[0]}: ${known}`);
  if (/Too many Cluster redirections|TRYAGAIN/.test(message)) {
    return fail(
      'STORE_UNAVAILABLE',
      `the cluster kept redirecting (${message}). A slot migration or failover is in progress; retry shortly.`,
    );
  }
  if (isConnectionError(message)) {
    return fail(
      'STORE_UNAVAILABLE',
      `the connection is down (${message}). The driver reconnects on its own; check that the server is running and reachable. A write in flight may or may not have been applied.`,
    );
  }
  return fail('STORE_UNAVAILABLE', `${message}.`);
}

export function isConnectionError(message: string): boolean {
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|None of startup nodes|Failed to refresh slots cache|Cluster isn't ready|Command aborted/i.test(
    message,
  );
}

/** The error for a server that cannot be used at startup: says what to check. */
export function openError(where: string, cause: unknown): ChatstateError {
  // A cluster client reports "Failed to refresh slots cache" and keeps the node's reply aside.
  const nodeError = (cause as { lastNodeError?: unknown } | null)?.lastNodeError;
  const message = [cause, nodeError]
    .filter((e) => e !== undefined && e !== null)
    .map((e) => (e instanceof Error ? e.message : String(e)))
    .join(': ');
  let advice: string;
  if (
    /WRONGPASS|invalid (username-)?password|NOAUTH|Authentication required|AUTH.*without any password/i.test(
      message,
    )
  ) {
    advice =
      'authentication failed: check the user and password in the URL (redis://user:password@host:port), percent-encoded';
  } else if (/cluster support disabled/i.test(message)) {
    advice = 'the server is not a cluster node: use redis:// instead of redis+cluster://';
  } else if (/certificate|self.signed|SSL|TLS|wrong version number/i.test(message)) {
    advice =
      'the TLS handshake failed: pass the CA that signed the server certificate (redisDriver({ tls: { ca } })), check the host name the certificate names, or use redis:// if the server has no TLS';
  } else if (/ENOTFOUND|EAI_AGAIN/.test(message)) {
    advice = 'the host name does not resolve: check the host in the URL';
  } else if (/NOPERM/.test(message)) {
    advice =
      'the Redis user lacks a permission chatstate needs: grant EVALSHA, EVAL, SCRIPT, SET, DEL, SCAN, PUBLISH, INFO';
  } else {
    advice =
      'check that redis-server is running and listening there, that the host and port are right and reachable (firewall, bind address), and use rediss:// if the server requires TLS';
  }
  return new ChatstateError('STORE_OPEN_FAILED', `cannot open Redis at ${where} (${message}): ${advice}.`, {
    component: 'redis',
    cause,
  });
}
