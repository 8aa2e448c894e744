// SPDX-License-Identifier: Apache-2.0
// Delivery streams: the list, and one stream's configuration, data freshness and the
// objects it delivered (an S3 listing of its bucket under its prefix's fixed part).

import * as api from '../api.js';
import { chart } from '../chart.js';
import { h, fill, table, link, badge, when, kv, bytes, errorBox } from '../ui.js';

export function mount(el, params, app) {
  return params.length ? detail(el, params[0], app) : list(el);
}

function list(el) {
  const body = h('div', {});
  el.append(h('h1', {}, 'Delivery streams'), body);
  async function update() {
    const names = [];
    let start;
    for (;;) {
      const page = await api.firehose('ListDeliveryStreams', { Limit: 10000, ...(start ? { ExclusiveStartDeliveryStreamName: start } : {}) });
      names.push(...(page.DeliveryStreamNames || []));
      if (!page.HasMoreDeliveryStreams || !names.length) break;
      start = names[names.length - 1];
    }
    const rows = await Promise.all(names.map((n) => api.firehose('DescribeDeliveryStream', { DeliveryStreamName: n })
      .then((r) => r.DeliveryStreamDescription, () => ({ DeliveryStreamName: n }))));
    fill(body, table([
      { title: 'Name', cell: (d) => link(d.DeliveryStreamName, 'firehose', d.DeliveryStreamName) },
      { title: 'Status', cell: (d) => badge(d.DeliveryStreamStatus || '–') },
      { title: 'Source', cell: (d) => d.DeliveryStreamType || '–' },
      { title: 'Destination', cell: (d) => destination(d)?.kind || '–' },
      { title: 'Created', cell: (d) => when(d.CreateTimestamp) },
    ], rows, { testid: 'delivery-streams', empty: 'No delivery streams yet.' }));
  }
  return { update };
}

/** The stream's first destination: its kind and the S3 description if it writes to S3. */
function destination(d) {
  const dest = (d.Destinations || [])[0];
  if (!dest) return null;
  const kind = Object.keys(dest).find((k) => k.endsWith('DestinationDescription')) || '';
  const s3 = dest.ExtendedS3DestinationDescription || dest.S3DestinationDescription
    || dest[kind]?.S3DestinationDescription;
  return { kind: kind.replace('DestinationDescription', '') || 'Unknown', s3, dest };
}

function detail(el, name, app) {
  const config = h('div', {});
  const charts = h('div', { class: 'charts' });
  const objects = h('div', {});
  el.append(h('h1', {}, name), config, h('h2', {}, 'Metrics'), charts, h('h2', {}, 'Delivered objects'), objects);
  async function update() {
    const win = app.win();
    let d;
    try {
      d = (await api.firehose('DescribeDeliveryStream', { DeliveryStreamName: name })).DeliveryStreamDescription;
    } catch (e) {
      fill(config, errorBox(e));
      return;
    }
    const dst = destination(d);
    const s3 = dst?.s3;
    fill(config, h('div', { class: 'panel' }, kv([
      ['Status', badge(d.DeliveryStreamStatus)],
      ['Source', d.DeliveryStreamType],
      ['Kinesis source', d.Source?.KinesisStreamSourceDescription?.KinesisStreamARN],
      ['Destination', dst?.kind],
      ['Bucket', s3?.BucketARN],
      ['Prefix', s3?.Prefix],
      ['Error prefix', s3?.ErrorOutputPrefix],
      ['Buffering', s3?.BufferingHints ? `${s3.BufferingHints.SizeInMBs} MiB or ${s3.BufferingHints.IntervalInSeconds} s` : undefined],
      ['Compression', s3?.CompressionFormat],
      ['ARN', d.DeliveryStreamARN],
      ['Created', when(d.CreateTimestamp)],
    ]), h('details', {}, h('summary', {}, 'Full configuration'), h('pre', {}, JSON.stringify(d, null, 2)))));
    const dims = { DeliveryStreamName: name };
    const data = await api.metricData([
      api.stat('fresh', 'AWS/Firehose', 'DeliveryToS3.DataFreshness', dims, 'Maximum', win.period, 'Data freshness (s)'),
      api.stat('in', 'AWS/Firehose', 'IncomingRecords', dims, 'Sum', win.period, 'IncomingRecords'),
      api.stat('out', 'AWS/Firehose', 'DeliveryToS3.Records', dims, 'Sum', win.period, 'DeliveryToS3.Records'),
    ], win).catch(() => new Map());
    const s = (id) => (data.get(id) ? [data.get(id)] : []);
    fill(charts, chart('DeliveryToS3.DataFreshness (max s)', s('fresh')),
      chart('Records in and delivered', [...s('in'), ...s('out')]));
    const bucket = s3?.BucketARN?.split(':::')[1];
    if (!bucket) { fill(objects, h('p', { class: 'muted' }, 'Not an S3 destination.')); return; }
    const fixed = (s3.Prefix || '').split('!{')[0];
    try {
      const objs = (await api.s3List(bucket, fixed, 2000))
        .sort((a, b) => b.LastModified.localeCompare(a.LastModified)).slice(0, 100);
      fill(objects, table([
        { title: 'Key', cell: (o) => o.Key },
        { title: 'Size', num: true, cell: (o) => bytes(o.Size) },
        { title: 'Last modified', cell: (o) => when(o.LastModified) },
      ], objs, { testid: 'objects', empty: 'Nothing delivered yet.' }));
    } catch (e) {
      fill(objects, errorBox(e));
    }
  }
  return { update };
}
