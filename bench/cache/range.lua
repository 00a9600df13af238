-- wrk script: random 1 MiB byte ranges (random, unaligned offsets) of one object.
-- No response() callback, so wrk does not copy bodies into Lua (a 1 MiB copy per
-- response would load the client). Non-2xx answers are counted by wrk (errors.status).
-- env: BENCH_PATH (URL path), BENCH_SIZE (object size in bytes), BENCH_RANGE (default 1 MiB).
local path = os.getenv("BENCH_PATH") or "/"
local size = tonumber(os.getenv("BENCH_SIZE"))
local len = tonumber(os.getenv("BENCH_RANGE") or "1048576")
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
end

function request()
  local off = math.random(0, size - len)
  return wrk.format("GET", path, { Range = string.format("bytes=%d-%d", off, off + len - 1) })
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d secs=%.3f rps=%.1f mbps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs, summary.bytes / secs / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
