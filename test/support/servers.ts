// Real servers for integration tests (project rule: no mocks). Every server runs on a free 127.0.0.1 port,
// is started by the test and stopped after; children are SIGKILLed if the test process exits unexpectedly.
export {
  type MemcachedOptions,
  type MemcachedServer,
  memcachedRaw,
  startMemcached,
} from './memcached-server.js';
export { freePort, pickServerPort } from './proc.js';
export {
  encodeResp,
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
  type RedisOptions,
  type RedisServer,
  RespError,
  type RespValue,
  redisCli,
  resp,
  startRedis,
  startRedisCluster,
  waitForClusterOk,
} from './redis-server.js';
