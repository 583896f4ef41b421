import { connect } from 'node:net';

/**
 * One `stats` command (`stats`, `stats slabs`) on its own short connection, as name -> number.
 * memcache-client has no stats call, and a separate socket keeps these reads out of the driver's
 * request counter (the round-trip count).
 */
export function memcachedStats(
  server: string,
  command = 'stats',
  timeoutMs = 5000,
): Promise<Map<string, number>> {
  const [host = '127.0.0.1', port = '11211'] = server.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    let text = '';
    const timer = setTimeout(
      () => socket.destroy(new Error(`memcached ${server}: no answer to "${command}"`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/(^|\r\n)END\r\n$/.test(text)) socket.end();
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const stats = new Map<string, number>();
      for (const m of text.matchAll(/^STAT (\S+) (\S+)\r$/gm)) {
        const value = Number(m[2]);
        if (!Number.isNaN(value)) stats.set(m[1] as string, value);
      }
      resolve(stats);
    });
  });
}

/** Bytes in used slab chunks (used_chunks x chunk_size over all classes): what items occupy. */
export function chunkBytes(slabs: Map<string, number>): number {
  let sum = 0;
  for (const [name, used] of slabs) {
    if (!name.endsWith(':used_chunks')) continue;
    sum += used * (slabs.get(`${name.split(':')[0]}:chunk_size`) ?? 0);
  }
  return sum;
}
