import { startRedis } from '../support/servers.js';
import { defineRedisConformance } from './redis-setup.js';

// One real redis-server for the file, flushed before every case; peers are separate connections.
defineRedisConformance('redis', () => startRedis());
