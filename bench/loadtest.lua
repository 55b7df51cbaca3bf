-- wrk script for bench/loadtest.py (wrk 4.1, LuaJIT).
--
-- Environment (set by loadtest.py):
--   LOADTEST_BODIES    file with one request body per line, already url-encoded
--                      ("query=..."; ASCII only, so Chinese text and newlines are safe)
--   LOADTEST_THINK_MS  mean pause (ms, exponential) before each request of a connection;
--                      0 or unset: no pause (wrk's delay() hook is then not defined at all)
--   LOADTEST_SEED      base seed of the per-thread random generators
--
-- Each request is a random body from the file, POSTed to /sparql as
-- application/x-www-form-urlencoded.  done() prints one line
--   LOADTEST_JSON {...}
-- with the request count, exact p50/p99 (us), non-2xx responses and socket errors.

local bodies_file = os.getenv("LOADTEST_BODIES")
local think_ms = tonumber(os.getenv("LOADTEST_THINK_MS") or "0") or 0
local seed = tonumber(os.getenv("LOADTEST_SEED") or "1") or 1

local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Accept"] = "application/sparql-results+json, text/turtle;q=0.9",
}

local threads = 0
local reqs = {}

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(seed + (tid or 0) * 7919)
  for line in io.lines(bodies_file) do
    if #line > 0 then
      table.insert(reqs, wrk.format("POST", "/sparql", headers, line))
    end
  end
  if #reqs == 0 then
    error("no request bodies in " .. tostring(bodies_file))
  end
end

function request()
  return reqs[math.random(#reqs)]
end

if think_ms > 0 then
  -- called before every request of a connection (the first one too); wrk starts
  -- the latency clock only when the request is written, so the pause is not counted
  function delay()
    return math.floor(-think_ms * math.log(1 - math.random()))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LOADTEST_JSON {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, \"connect\": %d, " ..
    "\"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, \"p50_us\": %d, " ..
    "\"p99_us\": %d, \"max_us\": %d, \"mean_us\": %f}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
