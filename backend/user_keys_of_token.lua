-- Prologue of apply_events.lua: rate limits, authentication, then the user is the token's
-- (single Redis only: the user's keys are found here, not declared, so they may be in any
-- slot). Needs rate_windows.lua before it.
--
-- KEYS[1]: the token key; KEYS[2 .. W + 1]: the rate-limit windows' counters.
-- The last ARGV (after the events): the token's hash, the prefix of the user's keys before
-- the user id, one suffix per part (keys.USER_PARTS order), amount and seconds of each
-- window, then W. The record "<user id>:<token hash>" was found by the hash; it must carry
-- the same hash. The windows are counted first, whether the token is known or not.
local W = tonumber(ARGV[#ARGV])
local G = 1 + W
local tail = #ARGV - 1 - 2 * W - 10
local limits = {}
for j = 1, 2 * W do
  limits[j] = ARGV[tail + 10 + j]
end
local exceeded = hit_windows(KEYS, 2, W, limits)
if exceeded then
  return redis.error_reply(exceeded)
end
local record = redis.call('GET', KEYS[1])
local sep = record and string.find(record, ':', 1, true)
if not sep or string.sub(record, sep + 1) ~= ARGV[tail + 1] then
  return redis.error_reply('NOTOKEN')
end
-- No check that the user exists: Store.delete_user removes the token record first, so a
-- record found here belongs to a user whose keys are all there.
local user_prefix = ARGV[tail + 2] .. string.sub(record, 1, sep - 1)
local meta, events, eids, savestate, saved, dismissed, opens, weights =
  user_prefix .. ARGV[tail + 3], user_prefix .. ARGV[tail + 4], user_prefix .. ARGV[tail + 5],
  user_prefix .. ARGV[tail + 6], user_prefix .. ARGV[tail + 7], user_prefix .. ARGV[tail + 8],
  user_prefix .. ARGV[tail + 9], user_prefix .. ARGV[tail + 10]
