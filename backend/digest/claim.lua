-- One user's claim on one digest period. A run claims the period before building the digest,
-- advances it to "sending" right before the SMTP transaction and to "sent", "empty" or
-- "failed" after it; when the server surely did not take the message it defers it (a retry
-- at a given time) or releases it (deletes it) so that a later run tries again. States are
-- "<kind>|<run id>|<ms>"; for "claimed" the ms is when the lease ends (an abandoned claim is
-- free again after it); "deferred|<attempts>|<ms>" is free again at ms, and the next claim
-- is attempt <attempts> + 1. Claiming and "sending" need the subscription the run read to be
-- still there and active: a user who unsubscribed or was deleted meanwhile gets nothing, and
-- no key is created for them.
--
-- KEYS[1]  the user's digests hash (keys.user(uid, "digests")): period -> state
-- KEYS[2]  the user's subscription hash (keys.user(uid, "subscription"))
-- ARGV[1]  operation: "claim", "advance", "defer" or "release"
-- ARGV[2]  period, e.g. "daily:2026-12-03"
-- ARGV[3]  run id
-- ARGV[4]  now, ms since the epoch
-- ARGV[5]  claim: lease in ms; advance: the new kind ("sending", "sent", "empty", "failed");
--          defer: when the period may be claimed again (ms since the epoch)
-- ARGV[6]  the subscription id (sid) the run read
-- ARGV[7]  claim: periods whose date part sorts before this are pruned (e.g. "2026-11-03");
--          advance to "sent": the last day the digest covered (ISO date);
--          defer: the attempts made so far
-- ARGV[8]  advance to "sent": when it was sent (ISO time), recorded in the subscription
-- Returns, for claim, the attempt this claim makes (1 for the first) or 0 if the period is
-- someone else's, finished or deferred to later, or the subscription changed; otherwise 1 if
-- done, 0 if not.

local function subscribed()
  local fields = redis.call('HMGET', KEYS[2], 'sid', 'status')
  return fields[1] == ARGV[6] and fields[2] == 'active'
end

local current = redis.call('HGET', KEYS[1], ARGV[2])
local kind, run, ms = nil, nil, nil
if current then
  kind, run, ms = string.match(current, '^(%a+)|([^|]*)|(%d+)$')
end
local now = tonumber(ARGV[4])
local ours = run == ARGV[3] and (kind == 'claimed' or kind == 'sending')

if ARGV[1] == 'claim' then
  if current and not ((kind == 'claimed' or kind == 'deferred') and tonumber(ms) <= now) then
    return 0
  end
  if not subscribed() then
    return 0
  end
  redis.call('HSET', KEYS[1], ARGV[2], 'claimed|' .. ARGV[3] .. '|' .. (now + tonumber(ARGV[5])))
  if redis.call('HLEN', KEYS[1]) > 40 then
    for _, period in ipairs(redis.call('HKEYS', KEYS[1])) do
      local day = string.match(period, ':(.*)$')
      if day and day < ARGV[7] then
        redis.call('HDEL', KEYS[1], period)
      end
    end
  end
  return kind == 'deferred' and (tonumber(run) or 0) + 1 or 1
end
if not ours then
  return 0
end
if ARGV[1] == 'release' or (ARGV[5] == 'sending' and not subscribed()) then
  redis.call('HDEL', KEYS[1], ARGV[2])
  return ARGV[1] == 'release' and 1 or 0
end
if ARGV[1] == 'defer' then
  redis.call('HSET', KEYS[1], ARGV[2], 'deferred|' .. ARGV[7] .. '|' .. ARGV[5])
  return 1
end
if ARGV[1] ~= 'advance' then
  return redis.error_reply('unknown operation ' .. tostring(ARGV[1]))
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[5] .. '|' .. ARGV[3] .. '|' .. now)
if ARGV[5] == 'sent' and redis.call('HGET', KEYS[2], 'sid') == ARGV[6] then
  redis.call('HSET', KEYS[2], 'last_sent_at', ARGV[8], 'last_until', ARGV[7], 'failures', 0)
end
return 1
