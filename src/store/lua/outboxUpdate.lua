-- outboxUpdate: the delivery state of one reply, atomically; a reply that is no longer pending
-- leaves the user's pending set (and, on a single server, the user leaves the index shard when it
-- has nothing pending left, in the same step).
-- KEYS[1]  entry hash       {<key>}:o:<version>:<n>
-- KEYS[2]  pending replies  {<key>}:oq
-- KEYS[3]  index shard      {<prefix>#outbox:<n>}     (only when ARGV[9] == '1': single server)
-- KEYS[4]  listing tokens   {<prefix>#outbox:<n>}:t   (only when ARGV[9] == '1')
-- KEYS[#KEYS] provider id   <prefix>#w:<provider id>  (only when ARGV[10] == '1': single server)
-- ARGV[1]  state: pending | sent | delivered | read | failed
-- ARGV[2]  attempts, '' to keep
-- ARGV[3]  provider message id (wamid), '' to keep
-- ARGV[4]  error text, '' to keep
-- ARGV[5]  now (ms)
-- ARGV[6]  retention (ms): the entry (and provider id key) expire this long after the update
-- ARGV[7]  member in the pending set: <version>:<n>
-- ARGV[8]  user key (member of the index shard)
-- ARGV[9]  '1': KEYS[3..4] are the user's index shard
-- ARGV[10] '1': KEYS[#KEYS] is the provider id key, set to ARGV[11]
-- ARGV[11] entry id
-- Reply: 1 updated, 0 no such entry (expired, or never recorded)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'u', ARGV[5])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'a', ARGV[2])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'pid', ARGV[3])
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'err', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if ARGV[1] == 'pending' then
  redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'c'), ARGV[7])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  if ARGV[9] == '1' then
    redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[8])
  end
else
  redis.call('ZREM', KEYS[2], ARGV[7])
  if ARGV[9] == '1' and redis.call('ZCARD', KEYS[2]) == 0 then
    redis.call('ZREM', KEYS[3], ARGV[8])
    redis.call('HDEL', KEYS[4], ARGV[8])
  end
end
if ARGV[10] == '1' then
  redis.call('SET', KEYS[#KEYS], ARGV[11], 'PX', ARGV[6])
end
return 1
