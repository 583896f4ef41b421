-- release: frees a lease only for the holder of its fencing token.
-- KEYS[1]  lease {<key>}:l
-- ARGV[1]  token
-- Reply: 1 released | 0 not the holder (already released, expired or taken over)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- Free again: no key (begin.lua takes it with SET NX).
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
