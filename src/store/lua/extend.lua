-- extend: renews a lease only for the holder of its fencing token.
-- KEYS[1]  lease {<key>}:l
-- ARGV[1]  token
-- ARGV[2]  new TTL in ms
-- Reply: 1 extended | 0 not the holder (released, expired or taken over)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
