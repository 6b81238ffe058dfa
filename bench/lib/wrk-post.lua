-- wrk script for bench/lib/wrk-load.ts: POSTs the body in $WRK_BODY_FILE with Content-Type
-- $WRK_CONTENT_TYPE, counts responses per status and, when $WRK_EXPECT_DIGIT is set, 2xx bodies
-- whose "digit" is another one; done() prints one JSON line prefixed "WRKJSON " for the caller.
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE")

local expect = tonumber(os.getenv("WRK_EXPECT_DIGIT") or "")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  wrong = 0
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if expect ~= nil and status >= 200 and status < 300 then
    local digit = body and tonumber(string.match(body, '"digit"%s*:%s*(%d+)'))
    if digit ~= expect then wrong = wrong + 1 end
  end
end

function done(summary, latency, requests)
  local all, wrongs = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do all[status] = (all[status] or 0) + n end
    wrongs = wrongs + thread:get("wrong")
  end
  local parts = {}
  for status, n in pairs(all) do table.insert(parts, string.format('"%d":%d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"durationUs":%d,"statuses":{%s},"wrong":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.duration, table.concat(parts, ","), wrongs, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
