// chatstate's Redis store on a 3-master Redis Cluster (`redis+cluster://` naming every node, no
// replicas), started by the bench (redis-server --cluster-enabled + redis-cli --cluster create) on
// free ports. Same driver and scripts as the single node; ioredis routes each script by the user's
// hash tag, so the 1,000 users spread over the three masters.
import { chatstateSubject } from '../lib/chatstate-subject.mjs';
import { redisRoundTrips } from '../lib/server-stats.mjs';
import { clusterUnavailable, ROUND_TRIP_SAMPLE, SERVER_LIMITS } from '../lib/server-subjects.mjs';
import { sharedCluster } from '../lib/servers.mjs';

const subject = chatstateSubject({
  name: 'redis-cluster',
  label: 'chatstate redis+cluster:// (3 masters)',
  url: async () => (await sharedCluster()).url,
  unavailable: clusterUnavailable,
});

subject.limits = SERVER_LIMITS;
subject.roundTrips = async (_ctx, run) =>
  redisRoundTrips((await sharedCluster()).ports, run, ROUND_TRIP_SAMPLE);

export default subject;
