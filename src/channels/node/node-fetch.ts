import http from 'node:http';
import https from 'node:https';

export interface NodeFetchOptions {
  /** Sockets kept open per host (keep-alive). Default 256: the reply clients send in parallel. */
  maxSockets?: number;
}

type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

/**
 * A `fetch` for the reply clients on Node, over node:http / node:https with keep-alive agents.
 * Measured on this project's 2-core machine (bench/run-sends.mjs), Node's global fetch (undici)
 * spent 400–600 us of CPU per JSON POST against ~85 us for node:http, and was 44% of the server's
 * CPU per message end to end. It covers what the clients use and nothing more: POST/GET, string or
 * byte bodies, headers, AbortSignal; no redirects, no streaming. The answer is Response-shaped
 * (status, statusText, ok, url, headers, text(), json(), arrayBuffer(), the body read whole), not
 * a WHATWG Response: building one and reading it back through a web stream cost more than the
 * request itself here.
 */
export function createNodeFetch(options: NodeFetchOptions = {}): typeof fetch {
  const maxSockets = options.maxSockets ?? 256;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  const nodeFetch = (input: string | URL | Request, init: FetchInit = {}): Promise<Response> => {
    if (input instanceof Request)
      return Promise.reject(new TypeError('nodeFetch takes a URL, not a Request'));
    const url = typeof input === 'string' ? new URL(input) : input;
    const protocol = url.protocol as keyof typeof agents;
    const agent = agents[protocol];
    if (!agent) return Promise.reject(new TypeError(`nodeFetch: unsupported protocol ${url.protocol}`));
    const body = requestBody(init.body);
    const headers = plainHeaders(init.headers);
    if (body !== undefined) headers['content-length'] = String(body.byteLength);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Response>((resolve, reject) => {
      const request = (protocol === 'https:' ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          response.on('end', () => {
            signal?.removeEventListener('abort', onAbort);
            const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
            resolve(new NodeResponse(response, bytes, url.href) as unknown as Response);
          });
        },
      );
      function fail(error: unknown) {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      }
      function onAbort() {
        request.destroy();
        reject(signal?.reason);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', fail);
      request.end(body);
    });
  };
  return nodeFetch as typeof fetch;
}

function requestBody(body: FetchInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('nodeFetch sends string, Uint8Array or ArrayBuffer bodies only');
}

function plainHeaders(headers: FetchInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries =
    headers instanceof Headers || Array.isArray(headers) ? headers : Object.entries(headers as object);
  for (const [name, value] of entries as Iterable<[string, string]>) out[name.toLowerCase()] = String(value);
  return out;
}

/** What the reply clients read from an answer; the Headers object is built only if asked for. */
class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly redirected = false;
  readonly bodyUsed = false;
  readonly #raw: http.IncomingHttpHeaders;
  readonly #bytes: Buffer;
  #headers: Headers | undefined;

  constructor(response: http.IncomingMessage, bytes: Buffer, url: string) {
    this.status = response.statusCode ?? 0;
    this.statusText = response.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.url = url;
    this.#raw = response.headers;
    this.#bytes = bytes;
  }

  get headers(): Headers {
    this.#headers ??= responseHeaders(this.#raw);
    return this.#headers;
  }

  async text(): Promise<string> {
    return this.#bytes.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#bytes.toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.#bytes;
    return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
  }
}

function responseHeaders(headers: http.IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.set(name, value);
  }
  return out;
}
