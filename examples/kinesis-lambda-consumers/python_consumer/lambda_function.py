# AWS's example Kinesis consumer for Python ("Using Lambda with Kinesis"), with its "interesting
# work" filled in: each order is logged as one JSON line, which the log group's metric filter
# turns into the OrderAmount metric.
import base64
import json


def lambda_handler(event, context):
    for record in event['Records']:
        try:
            print(f"Processed Kinesis Event - EventID: {record['eventID']}")
            record_data = base64.b64decode(record['kinesis']['data']).decode('utf-8')
            print(f"Record Data: {record_data}")
            order = json.loads(record_data)
            print(json.dumps({"orderId": order["orderId"], "amount": order["amount"]}))
        except Exception as e:
            print(f"An error occurred {e}")
            raise e
    print(f"Successfully processed {len(event['Records'])} records.")
