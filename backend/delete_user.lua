-- Delete a user's keys and return what the user counted for in trending, atomically, so
-- that deleting the same user twice at once takes their counts back once.
-- KEYS: every key of the user (one hash slot). ARGV: the index in KEYS of their opens hash
-- and of their saved zset.
-- Returns {papers the user opened, papers the user saves}; empty lists if already deleted.
local opened = redis.call('HKEYS', KEYS[tonumber(ARGV[1])])
local saved = redis.call('ZRANGE', KEYS[tonumber(ARGV[2])], 0, -1)
redis.call('DEL', unpack(KEYS))
return {opened, saved}
