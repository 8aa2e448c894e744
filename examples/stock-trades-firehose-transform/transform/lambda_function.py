# AWS's Firehose data transformation blueprint (kinesis-firehose-process-record-python), with
# its custom processing filled in: each stock trade gets its value (price x quantity) and ends
# with a newline, so the objects in S3 hold one JSON trade per line. A record that is not a
# trade is marked ProcessingFailed and goes to the error prefix.
from __future__ import print_function

import base64
import json

print('Loading function')


def lambda_handler(event, context):
    output = []

    for record in event['records']:
        print(record['recordId'])
        payload = base64.b64decode(record['data']).decode('utf-8')

        # Do custom processing on the payload here
        try:
            trade = json.loads(payload)
            trade['value'] = round(trade['price'] * trade['quantity'], 2)
            result, payload = 'Ok', json.dumps(trade) + '\n'
        except (ValueError, KeyError, TypeError):
            result = 'ProcessingFailed'

        output_record = {
            'recordId': record['recordId'],
            'result': result,
            'data': base64.b64encode(payload.encode('utf-8')).decode('utf-8')
        }
        output.append(output_record)

    print('Successfully processed {} records.'.format(len(event['records'])))

    return {'records': output}
