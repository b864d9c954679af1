-- #include rate_windows.lua
-- Apply a batch of one user's events atomically.
--
-- KEYS[1 .. 8]: the user's keys, in keys.USER_PARTS order (one hash slot):
--   meta, events, eids, savestate, saved, dismissed, opens, titles
-- KEYS[9 .. 8 + W]: the W rate-limit windows this batch counts in (a single Redis only: the
--   windows live in other hash slots), counted first, one hit per event.
-- KEYS[9 + W], KEYS[10 + W] (optional): trending's openers and savers (keys.TRENDING_OPENERS,
--   keys.TRENDING_SAVERS). Given, the script counts the paper's readers itself, in the same
--   atomic step (a single Redis); left out, the caller counts them from the effects (a Redis
--   Cluster, where these keys live in another hash slot than the user's).
-- ARGV: now_ms, retention_ms (of the event log), event_id_memory_ms, token_hash (the
--   user's meta must hold it; "" to check only that the user exists), W, then amount and
--   seconds of each window, then 7 values per event: id, type, paper_id, ts_ms, ts_iso,
--   source, title ("" if none).
-- Returns one effect per event:
--   "dup"            the event id was applied before: nothing changed
--   "opened"         the user's first open of the paper was recorded (one more opener)
--   "open"           a repeated open was recorded
--   "saved"          the paper went from not saved to saved (one more saver)
--   "unsaved"        the paper's save was taken back (one saver less)
--   "kept"           recorded in the log, no change of state (already in that state)
--   "stale"          recorded in the log, older than the paper's latest save/unsave
--   "dismissed"      the paper was dismissed
-- or an error: "RATELIMIT <window number> <ms until it resets>" (rate_windows.lua),
-- "NOTOKEN" when the user's meta does not hold token_hash, "NOUSER" when the user does not
-- exist (deleted meanwhile). Nothing is applied then.
--
-- The script stores the user's state (opens, saved, dismissed); the weights the
-- recommender trains from are derived from it by the reader (backend/store.py).

local meta, events, eids, savestate, saved, dismissed, opens, titles =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local W = tonumber(ARGV[5])
local openers, savers = KEYS[9 + W], KEYS[10 + W]
local HEADER, FIELDS = 5 + 2 * W, 7

local exceeded = hit_windows(KEYS, 9, W, ARGV, 6, (#ARGV - HEADER) / FIELDS)
if exceeded then
  return redis.error_reply(exceeded)
end
if ARGV[4] ~= '' then
  if redis.call('HGET', meta, 'token_hash') ~= ARGV[4] then
    return redis.error_reply('NOTOKEN')
  end
elseif redis.call('EXISTS', meta) == 0 then
  return redis.error_reply('NOUSER')
end

local now_ms = tonumber(ARGV[1])
-- whole numbers below 2^53: exact as Lua numbers, printed without exponent by %d
local stream_min_id = string.format('%d', now_ms - tonumber(ARGV[2]))
local eid_min_ms = string.format('(%d', now_ms - tonumber(ARGV[3]))

local function apply_save(paper_id, kind, ts, ts_ms)
  local previous = redis.call('HGET', savestate, paper_id)
  local prev_ts, prev_kind = -1, 'unsave'
  if previous then
    local sep = string.find(previous, '|', 1, true)
    prev_ts = tonumber(string.sub(previous, 1, sep - 1))
    prev_kind = string.sub(previous, sep + 1)
  end
  if ts < prev_ts then
    return 'stale'
  end
  local state = ts_ms .. '|' .. kind
  if state ~= previous then
    redis.call('HSET', savestate, paper_id, state)
  end
  if kind == 'save' then
    -- a save made after a dismissal takes the dismissal back
    local dismissed_at = redis.call('ZSCORE', dismissed, paper_id)
    if dismissed_at and ts >= tonumber(dismissed_at) then
      redis.call('ZREM', dismissed, paper_id)
    end
    if prev_kind == 'save' then
      return 'kept'  -- saved_at belongs to the save that started the saved period
    end
    redis.call('ZADD', saved, ts_ms, paper_id)
    return 'saved'
  end
  if prev_kind == 'save' and redis.call('ZREM', saved, paper_id) == 1 then
    return 'unsaved'
  end
  return 'kept'
end

local function apply_dismiss(paper_id, ts, ts_ms)
  local before = redis.call('ZSCORE', dismissed, paper_id)
  if not before or ts > tonumber(before) then
    redis.call('ZADD', dismissed, ts_ms, paper_id)
  end
  return 'dismissed'
end

-- trending counts readers, not events: one opener per user who ever opened the paper,
-- one saver per user who saves it now (see backend/feeds.py)
local function count_reader(effect, paper_id)
  if effect == 'opened' then
    redis.call('ZINCRBY', openers, 1, paper_id)
  elseif effect == 'saved' then
    redis.call('ZINCRBY', savers, 1, paper_id)
  elseif effect == 'unsaved' then
    if tonumber(redis.call('ZINCRBY', savers, -1, paper_id)) <= 0 then
      redis.call('ZREM', savers, paper_id)
    end
  end
end

local effects = {}
for base = HEADER, #ARGV - 1, FIELDS do
  local event_id, kind, paper_id = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  -- numbers go to redis.call as the strings they came as (a Lua number is printed again)
  local ts_ms, ts_iso, source, title =
    ARGV[base + 4], ARGV[base + 5], ARGV[base + 6], ARGV[base + 7]
  local effect
  if redis.call('ZADD', eids, 'NX', ts_ms, event_id) == 0 then
    effect = 'dup'
  else
    redis.call('XADD', events, 'MINID', '~', stream_min_id, '*',
      'id', event_id, 'type', kind, 'paper_id', paper_id, 'ts', ts_iso, 'source', source)
    -- a title from the page is the user's own: only the catalogue (imports) is public
    if title ~= '' then
      redis.call('HSET', titles, paper_id, title)
    end
    if kind == 'open' then
      if redis.call('HINCRBY', opens, paper_id, 1) == 1 then
        effect = 'opened'
      else
        effect = 'open'
      end
    elseif kind == 'dismiss' then
      effect = apply_dismiss(paper_id, tonumber(ts_ms), ts_ms)
    else
      effect = apply_save(paper_id, kind, tonumber(ts_ms), ts_ms)
    end
    if openers then
      count_reader(effect, paper_id)
    end
  end
  effects[#effects + 1] = effect
end

redis.call('ZREMRANGEBYSCORE', eids, '-inf', eid_min_ms)
return effects
