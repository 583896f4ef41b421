-- quarantine: keeps the raw bytes of an undecodable session aside and deletes the session, atomically
-- (the quarantine key carries the user's hash tag, so in a cluster it lives on the same slot).
-- KEYS[1]  session hash     {<key>}
-- KEYS[2]  history list     {<key>}:h
-- KEYS[3]  quarantine hash  {<key>}:q:<time>:<random>
-- ARGV[1]  raw bytes as the store read them
-- ARGV[2]  reason
-- ARGV[3]  time (ms since epoch)
-- ARGV[4]  how long to keep the quarantine record, in ms
-- Reply: 1
redis.call('HSET', KEYS[3], 'raw', ARGV[1], 'reason', ARGV[2], 'at', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('DEL', KEYS[1], KEYS[2])
return 1
