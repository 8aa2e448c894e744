// SPDX-License-Identifier: Apache-2.0
// Streams: a paged, filterable list (hundreds of streams: ListStreams pages, then one
// DescribeStreamSummary per visible row and one GetMetricData call for the visible rows'
// sparklines), and a stream's detail: shards with their hash ranges, lineage after
// resharding, consumers and throughput charts.

import * as api from '../api.js';
import { chart } from '../chart.js';
import { h, fill, table, link, badge, num, when, kv, sparkline, errorBox, pager } from '../ui.js';

export function mount(el, params, app) {
  return params.length ? detail(el, params[0], app) : list(el, app);
}

function list(el, app) {
  const pages = pager('streams', () => app.refresh());
  const body = h('div', {});
  el.append(h('h1', {}, 'Streams'), pages.toolbar, body, pages.buttons);

  async function update() {
    const rows = pages.slice(await api.listStreams(), (s) => s.StreamName);
    const win = app.win();
    const [summaries, data] = await Promise.all([
      Promise.all(rows.map((s) => api.kinesis('DescribeStreamSummary', { StreamName: s.StreamName })
        .then((r) => r.StreamDescriptionSummary, () => null))),
      api.metricData(rows.map((s, i) => api.stat(`r${i}`, 'AWS/Kinesis', 'IncomingRecords',
        { StreamName: s.StreamName }, 'Sum', win.period)), win).catch(() => new Map()),
    ]);
    const items = rows.map((s, i) => ({ ...s, summary: summaries[i], series: data.get(`r${i}`) }));
    fill(body, table([
      { title: 'Name', cell: (s) => link(s.StreamName, 'streams', s.StreamName) },
      { title: 'Status', cell: (s) => badge(s.StreamStatus || s.summary?.StreamStatus || '–') },
      { title: 'Mode', cell: (s) => (s.StreamModeDetails || s.summary?.StreamModeDetails)?.StreamMode || 'PROVISIONED' },
      { title: 'Open shards', num: true, cell: (s) => s.summary?.OpenShardCount ?? '–' },
      { title: 'Retention', num: true, cell: (s) => (s.summary ? `${s.summary.RetentionPeriodHours}h` : '–') },
      { title: 'Incoming records', cell: (s) => sparkline(s.series?.values || []) },
      { title: `Total (${app.range})`, num: true, cell: (s) => num((s.series?.values || []).reduce((a, b) => a + b, 0)) },
      { title: 'Created', cell: (s) => when(s.StreamCreationTimestamp || s.summary?.StreamCreationTimestamp) },
    ], items, {
      testid: 'streams',
      empty: pages.filter ? 'No stream matches the filter.' : 'No streams yet. Create one with aws kinesis create-stream.',
    }));
  }
  return { update };
}

const SPACE = 2n ** 128n;

/** Where a hash key range sits in the key space, as left/width percentages. */
function span(range) {
  try {
    const lo = BigInt(range.StartingHashKey);
    const hi = BigInt(range.EndingHashKey);
    const left = Number((lo * 10000n) / SPACE) / 100;
    const width = Math.max(0.4, Number(((hi - lo + 1n) * 10000n) / SPACE) / 100);
    return { left, width };
  } catch (_) {
    return { left: 0, width: 0 };
  }
}

function hashBar(shard) {
  const { left, width } = span(shard.HashKeyRange || {});
  const closed = !!shard.SequenceNumberRange?.EndingSequenceNumber;
  const bar = h('div', {
    class: closed ? 'hashbar closed' : 'hashbar',
    title: `${shard.HashKeyRange?.StartingHashKey} – ${shard.HashKeyRange?.EndingHashKey}`,
  }, h('span', {}));
  bar.firstChild.style.left = `${left}%`;
  bar.firstChild.style.width = `${width}%`;
  return bar;
}

function lines(ids) {
  const shown = ids.filter(Boolean);
  return shown.length ? shown.map((id) => h('div', { class: 'nowrap' }, id)) : '–';
}

function detail(el, name, app) {
  const head = h('div', {});
  const shards = h('div', {});
  const consumers = h('div', {});
  const charts = h('div', { class: 'charts' });
  el.append(h('h1', {}, name), head, h('h2', {}, 'Shards'), shards,
    h('h2', {}, 'Consumers'), consumers, h('h2', {}, 'Metrics'), charts);

  async function update() {
    const win = app.win();
    let summary;
    try {
      summary = (await api.kinesis('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary;
    } catch (e) {
      fill(head, errorBox(e));
      return;
    }
    fill(head, h('div', { class: 'panel' }, kv([
      ['Status', badge(summary.StreamStatus)],
      ['Mode', summary.StreamModeDetails?.StreamMode],
      ['Open shards', String(summary.OpenShardCount)],
      ['Consumers', String(summary.ConsumerCount ?? 0)],
      ['Retention', `${summary.RetentionPeriodHours} hours`],
      ['Encryption', summary.EncryptionType],
      ['ARN', summary.StreamARN],
      ['Created', when(summary.StreamCreationTimestamp)],
    ])));
    const [shardList, consumerList, data] = await Promise.all([
      api.all((b) => api.kinesis('ListShards', b), { StreamName: name }, (p) => p.Shards)
        .catch(() => null),
      api.all((b) => api.kinesis('ListStreamConsumers', b), { StreamARN: summary.StreamARN },
        (p) => p.Consumers).catch(() => []),
      api.metricData([
        api.stat('in', 'AWS/Kinesis', 'IncomingRecords', { StreamName: name }, 'Sum', win.period, 'IncomingRecords'),
        api.stat('bytes', 'AWS/Kinesis', 'IncomingBytes', { StreamName: name }, 'Sum', win.period, 'IncomingBytes'),
        api.stat('age', 'AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', { StreamName: name }, 'Maximum', win.period, 'Iterator age (ms, max)'),
        api.stat('wt', 'AWS/Kinesis', 'WriteProvisionedThroughputExceeded', { StreamName: name }, 'Sum', win.period, 'Write throttles'),
        api.stat('rt', 'AWS/Kinesis', 'ReadProvisionedThroughputExceeded', { StreamName: name }, 'Sum', win.period, 'Read throttles'),
      ], win).catch(() => new Map()),
    ]);
    if (shardList) {
      const children = new Map();
      for (const s of shardList) {
        for (const p of [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean)) {
          children.set(p, [...(children.get(p) || []), s.ShardId]);
        }
      }
      fill(shards, table([
        { title: 'Shard', cell: (s) => h('span', { class: 'nowrap' }, s.ShardId) },
        { title: 'State', cell: (s) => badge(s.SequenceNumberRange?.EndingSequenceNumber ? 'CLOSED' : 'OPEN') },
        { title: 'Hash range', cell: hashBar },
        { title: 'Hash keys', cell: (s) => h('div', { class: 'mono' },
          h('div', {}, s.HashKeyRange?.StartingHashKey), h('div', {}, `– ${s.HashKeyRange?.EndingHashKey}`)) },
        { title: 'Parents', cell: (s) => lines([s.ParentShardId, s.AdjacentParentShardId]) },
        { title: 'Children', cell: (s) => lines(children.get(s.ShardId) || []) },
      ], shardList, { testid: 'shards' }));
    } else {
      fill(shards, h('p', { class: 'muted' }, 'Shards are listed once the stream is ACTIVE.'));
    }
    fill(consumers, table([
      { title: 'Consumer', cell: (c) => c.ConsumerName },
      { title: 'Status', cell: (c) => badge(c.ConsumerStatus) },
      { title: 'Registered', cell: (c) => when(c.ConsumerCreationTimestamp) },
    ], consumerList, { empty: 'No enhanced fan-out consumers.', testid: 'consumers' }));
    const s = (id) => (data.get(id) ? [data.get(id)] : []);
    fill(charts,
      chart('Incoming records', s('in')),
      chart('Incoming bytes', s('bytes')),
      chart('Iterator age (GetRecords, max ms)', s('age')),
      chart('Throttled requests', [...s('wt'), ...s('rt')]));
  }
  return { update };
}

