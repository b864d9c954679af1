-- Move the model pointer to a new version only while it still names the version the caller
-- built on (a refresh must not undo a training published meanwhile).
-- KEYS[1] the model pointer
-- ARGV[1] the version expected there, ARGV[2] the new version
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
