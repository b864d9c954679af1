-- Prologue of apply_events.lua: the user's keys are KEYS[1..9] (keys.USER_PARTS order).
local meta, events, eids, savestate, saved, dismissed, opens, weights, titles =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local ARGV_TAIL = 0
if redis.call('EXISTS', meta) == 0 then
  return redis.error_reply('NOUSER')
end
