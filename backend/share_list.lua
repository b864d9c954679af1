-- Store a finished list in the user's lists hash, only while the user exists: a request in
-- flight when DELETE /v1/me ran must not re-create a key about the deleted user.
-- KEYS[1] the user's meta hash, KEYS[2] the user's lists hash (same hash slot)
-- ARGV[1] list name, ARGV[2] value, ARGV[3] seconds until the user's lists expire
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
