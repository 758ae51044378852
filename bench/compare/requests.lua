-- wrk script for bench/compare/run.sh: one request kind per run, chosen by
-- the argument after "--":
--   ctxd-put    PUT /v1/context/wN with {"value": "<100 characters>"}
--   ctxd-get    GET /v1/context/wN
--   etcd-put    POST /v3/kv/put, key and value base64 (136 characters of
--               base64 letters and digits: valid base64 of a 102-byte value)
--   etcd-range  POST /v3/kv/range of key N, serializable (etcd's cheapest read)
-- N cycles over 1,000 keys; every value written is new (a set to the current
-- value appends nothing in ctxd). done() prints one JSON line of results.

local kind
local nonce
local counter = 0
local keys = 1000
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  kind = args[1]
  nonce = tostring(os.time()) .. "x" .. tostring(tid)
end

local function pad(text, size)
  return text .. string.rep("x", size - #text)
end

local function etcd_key(n)
  return "a2V5" .. string.format("%04d", n)  -- "key" + 3 bytes; any 4k base64 letters decode
end

local json = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local n = (counter * 7 + tid) % keys
  if kind == "ctxd-put" then
    return wrk.format("PUT", "/v1/context/w" .. n, json,
                      '{"value":"' .. pad(nonce .. "x" .. counter, 100) .. '"}')
  elseif kind == "ctxd-get" then
    return wrk.format("GET", "/v1/context/w" .. n)
  elseif kind == "etcd-put" then
    return wrk.format("POST", "/v3/kv/put", json,
                      '{"key":"' .. etcd_key(n) .. '","value":"' .. pad(nonce .. "x" .. counter, 136) .. '"}')
  elseif kind == "etcd-range" then
    return wrk.format("POST", "/v3/kv/range", json,
                      '{"key":"' .. etcd_key(n) .. '","serializable":true}')
  end
  error("unknown request kind " .. tostring(kind))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"ops":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"errors":%d,"requests":%d}\n',
    summary.requests / summary.duration * 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout, summary.requests))
end
