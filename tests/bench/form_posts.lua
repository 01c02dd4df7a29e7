-- wrk script: AT's webhook form POSTs, realistic and distinct, with some redeliveries.
--
--   wrk -t N -c N -d 10s -s form_posts.lua URL -- <workload> <run tag> <acked-file> [redeliver every]
--
-- <workload> is "events" (POST /voice/events: each simulated call sends SessionRinging,
-- SessionAnswered and SessionEnded, and every <redeliver every>-th request re-sends the
-- previous notification unchanged, as AT does when it retries) or "instruct" (POST
-- /voice/instruct: each simulated call's first callback request, isActive=1).
--
-- Run it with as many threads as connections (-t N -c N): each thread then has one connection,
-- so its requests and responses alternate, and the thread knows which request each response
-- answers. The keys of acknowledged requests (events: sessionId|eventType answered "OK";
-- instruct: sessionId answered 200) are written to <acked-file>, one per line, so the driver
-- can check each of them against the database. The summary is printed as one JSON line.

-- wrk reads a thread's state with thread:get(name), which sees globals only: the per-thread
-- counters below are globals on purpose.
local threads = {}
local started = 0

function setup(thread)
   started = started + 1
   thread:set("thread_number", started)
   table.insert(threads, thread)
end

acked, acked_count, non_ok = {}, 0, 0

local workload, tag, redeliver_every
local request_number, call_number, event_number = 0, 0, 0
local pending_key, previous_body, previous_key
local form_header = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local NOTIFICATIONS = {
   "eventType=SessionRinging&callSessionState=Ringing",
   "eventType=SessionAnswered&callSessionState=Answered",
   "eventType=SessionEnded&callSessionState=Completed&status=Success"
      .. "&hangupCause=NORMAL_CLEARING&durationInSeconds=%d&currencyCode=KES&amount=%d.%02d",
}
local EVENT_TYPES = { "SessionRinging", "SessionAnswered", "SessionEnded" }

function init(args)
   workload = args[1] or "events"
   tag = args[2] or "run"
   acked_path = args[3] or "/dev/null"
   redeliver_every = tonumber(args[4] or "10")
end

local function session_id()
   -- ATVId_ and 32 characters: the run tag, this thread, and the call's number in it.
   return string.format("ATVId_%s%04dx%020d", tag, thread_number, call_number)
end

local function base_fields(session)
   return string.format(
      "sessionId=%s&direction=Outbound&callerNumber=%%2B2547%08d&destinationNumber=%%2B254711082000"
         .. "&callerCountryCode=254&callStartTime=2026-01-18+20%%3A04%%3A%02d",
      session, (thread_number * 7919 + call_number) % 100000000, call_number % 60)
end

local function next_event()
   local index = event_number % #NOTIFICATIONS + 1
   if index == 1 then
      call_number = call_number + 1
   end
   event_number = event_number + 1
   local session = session_id()
   local extra = NOTIFICATIONS[index]
   if index == #NOTIFICATIONS then
      local seconds = (call_number * 37) % 600 + 1
      extra = string.format(extra, seconds, math.floor(seconds / 20), seconds % 100)
   end
   return base_fields(session) .. "&" .. extra, session .. "|" .. EVENT_TYPES[index]
end

local function next_callback()
   call_number = call_number + 1
   local session = session_id()
   return base_fields(session) .. "&isActive=1", session
end

function request()
   request_number = request_number + 1
   local body, key, path
   if workload == "events" then
      if previous_body ~= nil and redeliver_every > 0 and request_number % redeliver_every == 0 then
         body, key = previous_body, previous_key
      else
         body, key = next_event()
      end
      previous_body, previous_key = body, key
      path = "/voice/events"
   else
      body, key = next_callback()
      path = "/voice/instruct"
   end
   pending_key = key
   return wrk.format("POST", path, form_header, body)
end

function response(status, headers, body)
   local ok
   if workload == "events" then
      ok = status == 200 and body == "OK"
   else
      ok = status == 200 and string.sub(body, 1, 5) == "<?xml"
   end
   if ok and pending_key ~= nil then
      acked_count = acked_count + 1
      acked[acked_count] = pending_key
   elseif not ok then
      non_ok = non_ok + 1
   end
   pending_key = nil
end

function done(summary, latency, requests)
   local total_acked, total_non_ok = 0, 0
   local out = io.open(threads[1]:get("acked_path"), "w")
   for _, thread in ipairs(threads) do
      local keys = thread:get("acked")
      local count = thread:get("acked_count")
      for i = 1, count do
         out:write(keys[i], "\n")
      end
      total_acked = total_acked + count
      total_non_ok = total_non_ok + thread:get("non_ok")
   end
   out:close()
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, '
         .. '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, '
         .. '"acked": %d, "non_ok": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
         .. '"mean_us": %.1f, "max_us": %d}\n',
      summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
      summary.errors.write, summary.errors.status, summary.errors.timeout,
      total_acked, total_non_ok, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.mean, latency.max))
end
