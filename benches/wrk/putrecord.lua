-- PutRecord of 1 KiB with a new partition key per request, spreading over every shard.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "Kinesis_20131202.PutRecord"
local f = assert(io.open(os.getenv("BENCH_WORK") .. "/data1k.b64", "r"))
local data = f:read("*a")
f:close()
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil,
    '{"StreamName":"bench1","Data":"' .. data .. '","PartitionKey":"k' .. counter .. '"}')
end
