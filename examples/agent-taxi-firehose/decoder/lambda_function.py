# The kinesis-process-record blueprint (Python): decodes each record the Kinesis Agent put on
# the stream (a taxi trip, CSV converted to JSON by the agent) and logs it.
import base64


def lambda_handler(event, context):
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8")
        print("Decoded payload: " + payload)
    return "Successfully processed {} records.".format(len(event["Records"]))
