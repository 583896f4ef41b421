-- outboxRead: reply entries of one user, in one step (a consistent view of each entry).
-- KEYS[1]  entry hash {<key>}:o:<version>:<n> (fields p payload, s state, a attempts, pid, err, c, u),
--          and KEYS[2..] more entries of the same user
-- ARGV[1]  unused ('')
-- Reply: one flat HGETALL per key, {} for an entry that expired or never existed
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGETALL', KEYS[i])
end
return out
