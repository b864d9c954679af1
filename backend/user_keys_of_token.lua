-- Prologue of apply_events.lua: authenticate, then the user is the token's (single Redis
-- only: the user's keys are found here, not declared, so they may be in any slot).
--
-- KEYS[1]: the token key. The last 10 ARGV (after the events): the token's hash, the prefix
-- of the user's keys before the user id, then one suffix per part (keys.USER_PARTS order).
-- The record "<user id>:<token hash>" was found by the hash; it must carry the same hash.
local G = 1
local tail = #ARGV - 10
local record = redis.call('GET', KEYS[1])
local sep = record and string.find(record, ':', 1, true)
if not sep or string.sub(record, sep + 1) ~= ARGV[tail + 1] then
  return redis.error_reply('NOTOKEN')
end
local user_prefix = ARGV[tail + 2] .. string.sub(record, 1, sep - 1)
local meta, events, eids, savestate, saved, dismissed, opens, weights =
  user_prefix .. ARGV[tail + 3], user_prefix .. ARGV[tail + 4], user_prefix .. ARGV[tail + 5],
  user_prefix .. ARGV[tail + 6], user_prefix .. ARGV[tail + 7], user_prefix .. ARGV[tail + 8],
  user_prefix .. ARGV[tail + 9], user_prefix .. ARGV[tail + 10]
