# A Kinesis consumer in the style of AWS's Python example ("Using Lambda with Kinesis"): it
# validates each order and raises on one it cannot take. The event source mapping retries the
# batch, bisects it until the bad record is alone, and then sends that record's invocation
# record to the on-failure destination (an SQS queue) and moves on.
import base64
import json


def lambda_handler(event, context):
    for record in event['Records']:
        try:
            print(f"Processed Kinesis Event - EventID: {record['eventID']}")
            record_data = base64.b64decode(record['kinesis']['data']).decode('utf-8')
            print(f"Record Data: {record_data}")
            order = json.loads(record_data)
            if not isinstance(order, dict) or not order.get("amount", 0) > 0:
                raise ValueError(f"not a valid order: {record_data}")
            print(f"Accepted order {order['orderId']}")
        except Exception as e:
            print(f"An error occurred {e}")
            raise e
    print(f"Successfully processed {len(event['Records'])} records.")
