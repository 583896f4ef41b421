import { startRedisCluster } from '../support/servers.js';
import { defineRedisConformance } from './redis-setup.js';

// A real 3-master Redis Cluster for the file, every master flushed before each case.
defineRedisConformance('redis cluster', () => startRedisCluster({ masters: 3, replicasPerMaster: 0 }));
