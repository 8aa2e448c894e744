-- PutRecords of 500 x 1 KiB records with 500 distinct partition keys (body made by run.sh).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "Kinesis_20131202.PutRecords"
local f = assert(io.open(os.getenv("BENCH_WORK") .. "/putrecords.json", "r"))
wrk.body = f:read("*a")
f:close()
