-- One breaker's sync with the fleet: an instance's report in, the fleet's state out.
-- Atomic (one script), timed by Redis alone (TIME): deadlines go out as milliseconds left.
--
-- KEYS: 1 state (hash: gen, state, until, ctl), 2 window (hash: "<bucket>:c|f|s" -> count),
--       3 opens (zset: instance -> when it last opened), 4 lease (string: the probe's owner)
-- ARGV: 1 instance, 2 fleet generation the report was decided on, 3 event
--       ("" | open | closed | reopen | force | reforce | close | reset), 4 its milliseconds left,
--       5..7 successes, failures, slow calls since the last report, 8 minimum_calls,
--       9 failure_rate, 10 slow_call_rate (-1: off), 11 window span ms (0: no window),
--       12 bucket ms, 13 min_instances, 14 ms within which instances' opens count together,
--       15 open period ms for an open the pooled window decides, 16 key TTL ms,
--       17 probe lease ms, 18 "1" if the instance waits to probe, 19 the channel that
--       announces moves
-- Returns: { generation, state, ms left open, 1 if the instance holds the lease,
--            ms left on the lease, the control that made this generation ("" if none,
--            "fresh" for a state made afresh) }
local s, w, o, l = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, seen, ev, left = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local ds, df, dslow = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local minimum, frate, srate = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local span, bucket = tonumber(ARGV[11]), tonumber(ARGV[12])
local min_instances, open_window = tonumber(ARGV[13]), tonumber(ARGV[14])
local wait, ttl, lease_ms = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17])
local wants = ARGV[18] == '1'

local gen = tonumber(redis.call('HGET', s, 'gen') or -1)
if gen < 0 then
  -- A fresh state (first use, expired, or a Redis restarted empty) starts its generations at
  -- Redis's clock, so that no generation an instance saw before comes round again. Its
  -- 'closed' is nobody's verdict: 'fresh' tells instances following an open to report it
  -- again rather than close.
  gen = now
  redis.call('HSET', s, 'gen', gen, 'state', 'closed', 'until', 0, 'ctl', 'fresh')
end
local state = redis.call('HGET', s, 'state') or 'closed'
local untl = tonumber(redis.call('HGET', s, 'until') or 0)
local ctl = redis.call('HGET', s, 'ctl') or ''

-- Every move makes a new generation: reports decided on an older one change nothing.
local function move(to, u, why)
  gen = gen + 1
  state, untl, ctl = to, u, why
  redis.call('HSET', s, 'gen', gen, 'state', to, 'until', u, 'ctl', why)
  -- For speed only: subscribers sync at once; the periodic sync catches what they miss.
  redis.call('PUBLISH', ARGV[19], s)
end

if ev == 'force' or (ev == 'reforce' and seen == gen and state == 'closed') then
  -- 'reforce': an instance still forced by a force Redis lost (restarted empty) says it
  -- again, fenced like a report so that it never undoes a control made since.
  move('forced', 0, 'force')
  redis.call('DEL', l)
elseif ev == 'close' or ev == 'reset' then
  move('closed', 0, ev)
  redis.call('DEL', w, o, l)
elseif seen == gen then
  if ev == 'open' and state == 'closed' then
    -- An instance's own breaker opened: the fleet opens once min_instances did so lately.
    redis.call('ZADD', o, now, me)
    redis.call('ZREMRANGEBYSCORE', o, '-inf', now - open_window)
    if redis.call('ZCARD', o) >= min_instances then
      move('open', now + left, '')
      redis.call('DEL', w, o)
    end
  elseif (ev == 'closed' or ev == 'reopen') and state == 'open'
      and (redis.call('GET', l) or me) == me then
    -- The probe's verdict, from the lease's owner only; or from the last owner once the
    -- lease ran out with nobody taking it over (an idle prober's late verdict still counts:
    -- no other probe ran).
    redis.call('DEL', l)
    if ev == 'closed' then
      move('closed', 0, '')
      redis.call('DEL', w, o)
    else
      move('open', now + left, '')
    end
  end
end

-- The pooled window: time buckets, summed here and judged by the breaker's own rules.
if state == 'closed' and span > 0 then
  local b = math.floor(now / bucket)
  if ds + df > 0 then
    redis.call('HINCRBY', w, b .. ':c', ds + df)
    if df > 0 then redis.call('HINCRBY', w, b .. ':f', df) end
    if dslow > 0 then redis.call('HINCRBY', w, b .. ':s', dslow) end
  end
  local oldest = b - math.floor(span / bucket) + 1
  local calls, fails, slows = 0, 0, 0
  local all = redis.call('HGETALL', w)
  for i = 1, #all, 2 do
    local k, v = all[i], tonumber(all[i + 1])
    local sep = string.find(k, ':', 1, true)
    if sep == nil or tonumber(string.sub(k, 1, sep - 1)) < oldest then
      redis.call('HDEL', w, k)
    else
      local kind = string.sub(k, sep + 1)
      if kind == 'c' then calls = calls + v elseif kind == 'f' then fails = fails + v else slows = slows + v end
    end
  end
  if calls > 0 and calls >= minimum and
      ((frate >= 0 and fails / calls >= frate) or (srate >= 0 and slows / calls >= srate)) then
    move('open', now + wait, '')
    redis.call('DEL', w, o)
  end
end

-- One probe for the fleet: once the open period is over, the first instance to ask owns it
-- until its verdict or until the lease runs out (its owner died, or no call came to it).
local holder, lease_left = 0, 0
if state == 'open' and now >= untl then
  if wants then redis.call('SET', l, me, 'NX', 'PX', lease_ms) end
  if redis.call('GET', l) == me then holder = 1 end
  lease_left = redis.call('PTTL', l)
  if lease_left < 0 then lease_left = 0 end
end

-- Abandoned breakers leave nothing behind.
redis.call('PEXPIRE', s, ttl)
redis.call('PEXPIRE', w, ttl)
redis.call('PEXPIRE', o, ttl)

local remaining = untl - now
if remaining < 0 then remaining = 0 end
return { gen, state, remaining, holder, lease_left, ctl }
