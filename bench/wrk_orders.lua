-- wrk script of bench/wrk_ab.py: POST /api/orders/ of 1-3 distinct random foods (quantity 1-3) on a
-- random table, and a count of every answer that is not 2xx (wrk's own "Non-2xx or 3xx responses" leaves
-- 3xx out).
--
--   wrk -t2 -c32 -d6s --latency -s bench/wrk_orders.lua http://127.0.0.1:PORT/api/orders/ \
--       -- seed=1 tables=<uuid>,<uuid>,... foods=<id>,<id>,... [keys=<nonce>]
--
-- Arguments are key=value (wrk passes the URL too; it is ignored). foods: uncounted foods only (stock NULL,
-- not sold out), so that no order can fail for stock. keys=<nonce>: each order carries a new Idempotency-Key,
-- as the customer's page sends it (unique across threads; a new nonce per run keeps runs apart). At the end it prints lines that wrk_ab.py parses:
--   wrk_orders responses=N ok=N non2xx=N
--   wrk_orders statuses=201:N,400:N
--   wrk_orders latency_us p50=N p90=N p99=N max=N
--   wrk_orders sample=<status> <first 200 bytes of the body>   (at most 3 per thread)

local threads = {}
local thread_count = 0

-- per thread (each wrk thread has a Lua state of its own)
local tables, foods = {}, {}
local key_prefix, sent = nil, 0
responses, ok, non2xx, statuses, samples = 0, 0, 0, {}, {}

local function split(text)
  local out = {}
  for part in string.gmatch(text or "", "[^,]+") do
    out[#out + 1] = part
  end
  return out
end

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
  threads[#threads + 1] = thread
end

function init(args)
  local seed, key_nonce = 1, nil
  for i = 0, #args do
    local arg = args[i]
    if arg then
      local key, value = string.match(arg, "^(%w+)=(.*)$")
      if key == "seed" then
        seed = tonumber(value) or 1
      elseif key == "tables" then
        tables = split(value)
      elseif key == "foods" then
        foods = split(value)
      elseif key == "keys" then
        key_nonce = value
      end
    end
  end
  if #tables == 0 or #foods == 0 then
    error("wrk_orders.lua: pass tables=<uuid,...> and foods=<id,...> after --")
  end
  math.randomseed(seed * 1000 + (thread_index or 0))
  if key_nonce then
    key_prefix = string.format("wrk-%s-%d-%d-", key_nonce, seed, thread_index or 0)
  end
  wrk.method = "POST"
  wrk.path = "/api/orders/"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local count = math.random(1, math.min(3, #foods))
  local picked, lines = {}, {}
  while #lines < count do
    local food = foods[math.random(#foods)]
    if not picked[food] then
      picked[food] = true
      lines[#lines + 1] = '{"food_id":' .. food .. ',"quantity":' .. math.random(1, 3) .. "}"
    end
  end
  local body = '{"table_id":"' .. tables[math.random(#tables)] .. '","items":[' .. table.concat(lines, ",") .. "]}"
  if key_prefix then
    sent = sent + 1
    -- headers given to wrk.format replace wrk.headers (it adds Host itself)
    local headers = { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key_prefix .. sent }
    return wrk.format(nil, nil, headers, body)
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status <= 299 then
    ok = ok + 1
  else
    non2xx = non2xx + 1
    if #samples < 3 then
      samples[#samples + 1] = status .. " " .. (string.gsub(string.sub(body or "", 1, 200), "[\r\n]", " "))
    end
  end
end

function done(summary, latency, requests)
  local total_responses, total_ok, total_non2xx = 0, 0, 0
  local merged, merged_samples = {}, {}
  for _, thread in ipairs(threads) do
    total_responses = total_responses + (thread:get("responses") or 0)
    total_ok = total_ok + (thread:get("ok") or 0)
    total_non2xx = total_non2xx + (thread:get("non2xx") or 0)
    -- thread:get copies the thread's tables into this (the main) Lua state
    for code, n in pairs(thread:get("statuses") or {}) do
      merged[code] = (merged[code] or 0) + n
    end
    for _, line in ipairs(thread:get("samples") or {}) do
      merged_samples[#merged_samples + 1] = line
    end
  end
  local parts = {}
  for code, n in pairs(merged) do
    parts[#parts + 1] = code .. ":" .. n
  end
  table.sort(parts)
  io.write(string.format("wrk_orders responses=%d ok=%d non2xx=%d\n", total_responses, total_ok, total_non2xx))
  io.write("wrk_orders statuses=" .. table.concat(parts, ",") .. "\n")
  io.write(
    string.format(
      "wrk_orders latency_us p50=%d p90=%d p99=%d max=%d\n",
      latency:percentile(50),
      latency:percentile(90),
      latency:percentile(99),
      latency.max
    )
  )
  for _, line in ipairs(merged_samples) do
    io.write("wrk_orders sample=" .. line .. "\n")
  end
end
