-- The wrk script of the load benchmark (bench/load.py). bench/load.py writes a prelude
-- before this text defining:
--   clients  one table per concurrent client: headers, paths (cycled), body (a form
--            without its version: the autosave) and version (the draft's current one)
--   method   "GET" or "POST"
--   expect   the statuses that count as success, e.g. {[200] = true}
-- Run with as many threads as connections, so each thread is one client with its own
-- session cookie or API token, and its requests follow one another as a browser's do.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  client = clients[((index - 1) % #clients) + 1]
  for name, value in pairs(client.headers) do
    wrk.headers[name] = value
  end
  unexpected = 0
  turn = 0
  version = client.version
end

function request()
  turn = turn + 1
  local path = client.paths[((turn - 1) % #client.paths) + 1]
  if client.body then
    -- Each save changes the summary, as a person's does (see EDIT_MARK in load.py).
    local body = string.gsub(client.body, "EDITMARK", "edit" .. turn)
    return wrk.format(method, path, nil, body .. "&version=" .. version)
  end
  return wrk.format(method, path)
end

function response(status, headers, body)
  if not expect[status] then
    unexpected = unexpected + 1
  elseif client.body then
    -- The autosave answers with the draft's new version, as app.js reads it.
    local saved = string.match(body, '"version"%s*:%s*(%d+)')
    if saved then version = saved end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "unexpected": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), bad, e.connect, e.read, e.write, e.timeout, e.status))
end
