// A minimal HTTP/1.1 keep-alive client for the load generator: one request at a time per socket,
// the request written as one buffer, the response parsed only as far as status and Content-Length.
// node:http's client costs ~100 us of CPU per request, which capped the generator near 5,000
// requests/s on this machine; this one costs a fraction of that (the "loadgen" row measures it).
import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

class Connection {
  constructor(host, port, pool) {
    this.pool = pool;
    this.socket = net.connect({ host, port, noDelay: true });
    this.buffer = null;
    this.pending = null;
    this.socket.on('data', (chunk) => this.#onData(chunk));
    this.socket.on('error', () => this.#fail());
    this.socket.on('close', () => this.#fail());
  }

  send(head, body, resolve) {
    this.pending = resolve;
    this.socket.write(Buffer.concat([head, body]));
  }

  #onData(chunk) {
    this.buffer = this.buffer === null ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(CRLF2);
    if (end < 0) return;
    const head = this.buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const total = length ? end + 4 + Number(length[1]) : chunkedEnd(this.buffer, end + 4);
    if (total < 0 || this.buffer.length < total) return;
    this.buffer = this.buffer.length > total ? this.buffer.subarray(total) : null;
    const resolve = this.pending;
    this.pending = null;
    this.pool.release(this);
    resolve(status);
  }

  #fail() {
    this.pool.drop(this);
    const resolve = this.pending;
    this.pending = null;
    resolve?.(0);
  }
}

/** Where a chunked body that starts at `at` ends, or -1 while it is incomplete. */
function chunkedEnd(buffer, at) {
  let i = at;
  for (;;) {
    const line = buffer.indexOf('\r\n', i, 'latin1');
    if (line < 0) return -1;
    const size = Number.parseInt(buffer.toString('latin1', i, line), 16);
    if (size === 0) return buffer.length >= line + 4 ? line + 4 : -1;
    i = line + 2 + size + 2;
    if (i > buffer.length) return -1;
  }
}

/** `post(body, signature)` resolves with the HTTP status (0 on a connection error). */
export function rawPoster(url, { sockets, path = '/webhooks/whatsapp' }) {
  const { hostname, port } = new URL(url);
  const free = [];
  const queue = [];
  let open = 0;
  const pool = {
    release(conn) {
      const next = queue.shift();
      if (next) conn.send(next.head, next.body, next.resolve);
      else free.push(conn);
    },
    drop(conn) {
      const i = free.indexOf(conn);
      if (i >= 0) free.splice(i, 1);
      if (!conn.dropped) {
        conn.dropped = true;
        open--;
      }
    },
  };
  const post = (body, signature) =>
    new Promise((resolve) => {
      const head = Buffer.from(
        `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
          `X-Hub-Signature-256: ${signature}\r\nContent-Length: ${body.length}\r\n\r\n`,
        'latin1',
      );
      let conn = free.pop();
      if (conn === undefined && open < sockets) {
        open++;
        conn = new Connection(hostname, Number(port), pool);
      }
      if (conn === undefined) queue.push({ head, body, resolve });
      else conn.send(head, body, resolve);
    });
  post.close = () => {
    for (const conn of free) conn.socket.destroy();
  };
  return post;
}
