-- Apply a batch of one user's events atomically.
--
-- Prepended by one of two prologues, which define the user's keys (events, eids, savestate,
-- saved, dismissed, opens, weights, titles: keys.USER_PARTS order after meta, one hash
-- slot) and
-- ARGV_TAIL, the number of ARGV after the events:
--   user_keys_declared.lua  the KEYS are the user's keys (keys.USER_PARTS);
--   user_keys_of_token.lua  KEYS[1] is a token key and the user is the token's;
--                           a single Redis only (the user's keys are not declared).
-- ARGV: now_ms (EVENT_HEADER values), then EVENT_FIELDS (7) values per event:
--       id, type, paper_id, ts_ms, ts_iso, source, title ("" if none), then what the
--       prologue reads (see there)
-- Constants (the store's settings, bound before the script by Store; see
-- backend/store.py, script_constants): WEIGHT_OPEN (and as text, WEIGHT_OPEN_TEXT),
--       OPEN_CAP, WEIGHT_SAVE, RETENTION_MS (of the event log), EVENT_ID_MEMORY_MS,
--       EVENT_HEADER, EVENT_FIELDS, and GLOBAL: also count the paper's readers for
--       trending in this same atomic script (single Redis, where a script may use keys it
--       does not declare: OPENERS_KEY, SAVERS_KEY); false: the caller does it from the
--       effects (Redis Cluster)
-- Returns one effect per event:
--   "dup"            the event id was applied before: nothing changed
--   "opened"         the user's first open of the paper was recorded (one more opener)
--   "open"           a repeated open was recorded
--   "saved"          the paper went from not saved to saved (one more saver)
--   "unsaved"        the paper's save was taken back (one saver less)
--   "kept"           recorded in the log, no change of state (already in that state)
--   "stale"          recorded in the log, older than the paper's latest save/unsave
--   "dismissed"      the paper was dismissed
-- or an error "NOUSER" (declared prologue) when the user no longer exists (deleted
-- meanwhile), or "NOTOKEN" (token prologue) when the token is unknown.

local n = (#ARGV - EVENT_HEADER - ARGV_TAIL) / EVENT_FIELDS
local now_ms = tonumber(ARGV[1])
-- whole numbers below 2^53: exact as Lua numbers, printed without exponent by %d
local stream_min_id = string.format('%d', now_ms - RETENTION_MS)

-- The weights hold, for each paper that is not dismissed, min(opens, cap) * WEIGHT_OPEN plus
-- WEIGHT_SAVE if saved (no field while dismissed or 0). Each branch below writes a weight
-- only when what it depends on changed: a repeated save, unsave or dismissal reads less and
-- writes nothing.
local function set_weight(paper_id, is_saved)
  local w = math.min(tonumber(redis.call('HGET', opens, paper_id) or '0'), OPEN_CAP)
    * WEIGHT_OPEN
  if is_saved then
    w = w + WEIGHT_SAVE
  end
  if w > 0 then
    redis.call('HSET', weights, paper_id, tostring(w))
  else
    redis.call('HDEL', weights, paper_id)
  end
end

local effects = {}
for i = 0, n - 1 do
  local base = EVENT_HEADER + i * EVENT_FIELDS
  local event_id, kind, paper_id = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  -- numbers go to redis.call as the strings they came as (a Lua number is printed again)
  local ts_ms, ts_iso, source = ARGV[base + 4], ARGV[base + 5], ARGV[base + 6]
  local ts = tonumber(ts_ms)
  local effect
  if redis.call('ZADD', eids, 'NX', ts_ms, event_id) == 0 then
    effect = 'dup'
  else
    redis.call('XADD', events, 'MINID', '~', stream_min_id, '*',
      'id', event_id, 'type', kind, 'paper_id', paper_id, 'ts', ts_iso, 'source', source)
    -- a title from the page is the user's own: only the catalogue (imports) is public
    if ARGV[base + 7] ~= '' then
      redis.call('HSET', titles, paper_id, ARGV[base + 7])
    end
    if kind == 'open' then
      -- an open under the cap adds WEIGHT_OPEN to the weight (0 while dismissed); opens
      -- beyond the cap leave it as it is
      local count = redis.call('HINCRBY', opens, paper_id, '1')
      if count <= OPEN_CAP and not redis.call('ZSCORE', dismissed, paper_id) then
        redis.call('HINCRBYFLOAT', weights, paper_id, WEIGHT_OPEN_TEXT)
      end
      if count == 1 then effect = 'opened' else effect = 'open' end
    elseif kind == 'dismiss' then
      local before = redis.call('ZSCORE', dismissed, paper_id)
      if not before then
        redis.call('ZADD', dismissed, ts_ms, paper_id)
        redis.call('HDEL', weights, paper_id)
      elseif ts > tonumber(before) then
        redis.call('ZADD', dismissed, ts_ms, paper_id)
      end
      effect = 'dismissed'
    else
      local previous = redis.call('HGET', savestate, paper_id)
      local prev_ts, prev_kind = -1, 'unsave'
      if previous then
        local sep = string.find(previous, '|', 1, true)
        prev_ts = tonumber(string.sub(previous, 1, sep - 1))
        prev_kind = string.sub(previous, sep + 1)
      end
      if ts < prev_ts then
        effect = 'stale'
      else
        local state = ts_ms .. '|' .. kind
        if state ~= previous then
          redis.call('HSET', savestate, paper_id, state)
        end
        if kind == 'save' then
          -- saved_at (and the trending weight) belong to the save that started the
          -- current saved period; a repeated save only moves the save state's time
          if prev_kind ~= 'save' then
            redis.call('ZADD', saved, ts_ms, paper_id)
          end
          -- a save made after a dismissal takes the dismissal back
          local dismissed_at = redis.call('ZSCORE', dismissed, paper_id)
          local takes_back = dismissed_at and ts >= tonumber(dismissed_at)
          if takes_back then
            redis.call('ZREM', dismissed, paper_id)
          end
          if prev_kind ~= 'save' then
            if takes_back or not dismissed_at then
              set_weight(paper_id, true)
            end
          elseif takes_back then
            -- already saved: the weight comes back with the dismissal taken back
            set_weight(paper_id, redis.call('ZSCORE', saved, paper_id) ~= false)
          end
          if prev_kind == 'save' then effect = 'kept' else effect = 'saved' end
        else
          local saved_at = redis.call('ZSCORE', saved, paper_id)
          if prev_kind == 'save' and saved_at then
            redis.call('ZREM', saved, paper_id)
            if not redis.call('ZSCORE', dismissed, paper_id) then
              set_weight(paper_id, false)
            end
            effect = 'unsaved'
          else
            effect = 'kept'
          end
        end
      end
    end
  end
  effects[#effects + 1] = effect
  if GLOBAL then
    -- trending counts readers, not events: one opener per user who ever opened the
    -- paper, one saver per user who saves it now (see backend/feeds.py)
    if effect == 'opened' then
      redis.call('ZINCRBY', OPENERS_KEY, 1, paper_id)
    elseif effect == 'saved' then
      redis.call('ZINCRBY', SAVERS_KEY, 1, paper_id)
    elseif effect == 'unsaved' then
      if tonumber(redis.call('ZINCRBY', SAVERS_KEY, -1, paper_id)) <= 0 then
        redis.call('ZREM', SAVERS_KEY, paper_id)
      end
    end
  end
end

redis.call('ZREMRANGEBYSCORE', eids, '-inf',
  string.format('(%d', now_ms - EVENT_ID_MEMORY_MS))
return effects
