-- wrk script: replay precomputed, signed Twilio webhook requests (one MessageSid each).
-- Each wrk thread takes its own slice of the file so no request is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local path = os.getenv("PEERNUDGE_WRK_REQUESTS")
  local nthreads = tonumber(os.getenv("PEERNUDGE_WRK_THREADS"))
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      local signature, body = line:match("([^\t]+)\t(.*)")
      requests[#requests + 1] = wrk.format("POST", "/sms/inbound", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
      }, body)
    end
    i = i + 1
  end
  position = 0
end

function request()
  position = position % #requests + 1
  return requests[position]
end
