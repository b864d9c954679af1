-- Prologue of apply_events.lua: rate limits, authentication, then the user is the token's
-- (single Redis only: the user's keys are found here, not declared, so they may be in any
-- slot). Needs rate_windows.lua and the store's constants (USER_KEY_PREFIX,
-- USER_KEY_SUFFIXES) before it.
--
-- KEYS[1]: the token key; KEYS[2 .. W + 1]: the W rate-limit windows' counters.
-- The last ARGV (after the events): the token's hash, then amount and seconds of each
-- window (ARGV_TAIL values in all). The record "<user id>:<token hash>" was found by the
-- hash; it must carry the same hash. The windows are counted first, one hit per event,
-- whether the token is known or not.
local W = #KEYS - 1
local ARGV_TAIL = 1 + 2 * W
local token_hash_at = #ARGV - 2 * W
local exceeded = hit_windows(KEYS, 2, W, ARGV, token_hash_at + 1,
  (token_hash_at - 1 - EVENT_HEADER) / EVENT_FIELDS)
if exceeded then
  return redis.error_reply(exceeded)
end
local record = redis.call('GET', KEYS[1])
local sep = record and string.find(record, ':', 1, true)
if not sep or string.sub(record, sep + 1) ~= ARGV[token_hash_at] then
  return redis.error_reply('NOTOKEN')
end
-- No check that the user exists: Store.delete_user removes the token record first, so a
-- record found here belongs to a user whose keys are all there.
local user_prefix = USER_KEY_PREFIX .. string.sub(record, 1, sep - 1)
-- (meta is not needed here: the record proves the user)
local events, eids, savestate, saved, dismissed, opens, weights, titles =
  user_prefix .. USER_KEY_SUFFIXES[2], user_prefix .. USER_KEY_SUFFIXES[3],
  user_prefix .. USER_KEY_SUFFIXES[4], user_prefix .. USER_KEY_SUFFIXES[5],
  user_prefix .. USER_KEY_SUFFIXES[6], user_prefix .. USER_KEY_SUFFIXES[7],
  user_prefix .. USER_KEY_SUFFIXES[8], user_prefix .. USER_KEY_SUFFIXES[9]
