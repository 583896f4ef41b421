-- outboxDue: one user's pending replies created before a time, oldest first, and how many are pending.
-- KEYS[1]  pending replies  {<key>}:oq   sorted set: member = <version>:<n>, score = created (ms)
-- ARGV[1]  time (ms, exclusive)
-- ARGV[2]  how many at most
-- Reply: {pending count, member, member, ...}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
table.insert(due, 1, redis.call('ZCARD', KEYS[1]))
return due
