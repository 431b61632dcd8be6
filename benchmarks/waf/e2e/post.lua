-- wrk script: the 1 KB form POST workload (an ordinary sign-up form, no attack).
local fields = {
  "name=Jane+Doe", "email=jane.doe%40example.com", "street=221B+Baker+Street",
  "city=London", "zip=NW1+6XE", "country=United+Kingdom", "phone=%2B44+20+7224+3688",
  "newsletter=yes", "plan=standard", "referrer=search",
}
local body = table.concat(fields, "&")
local filler = "comment=" .. string.rep("Looking+forward+to+it+", 60)
body = body .. "&" .. filler
body = body:sub(1, 1024)
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
