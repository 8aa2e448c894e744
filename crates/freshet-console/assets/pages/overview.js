// SPDX-License-Identifier: Apache-2.0
// Overview: how many of each resource, the alarms in ALARM, and the busiest streams.

import * as api from '../api.js';
import { h, fill, table, link, badge, num, when, errorBox } from '../ui.js';

export function mount(el, _params, app) {
  const cards = h('div', { class: 'cards', 'data-testid': 'counts' });
  const alarming = h('div', {});
  const top = h('div', {});
  el.append(h('h1', {}, 'Overview'), cards,
    h('h2', {}, 'Alarms in ALARM'), alarming,
    h('h2', {}, 'Top streams by incoming records'), top);

  async function update() {
    const win = app.win();
    const [streams, queues, fns, delivery, alarms] = await Promise.allSettled([
      api.listStreams(),
      api.all((b) => api.sqs('ListQueues', b), { MaxResults: 1000 }, (p) => p.QueueUrls),
      api.lambda('/').then((p) => p.Functions || []),
      api.firehose('ListDeliveryStreams', { Limit: 10000 }).then((p) => p.DeliveryStreamNames || []),
      api.cloudwatch('DescribeAlarms', { StateValue: 'ALARM', MaxRecords: 100, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
    ]);
    const count = (r) => (r.status === 'fulfilled' ? r.value.length : '–');
    const alarmList = alarms.status === 'fulfilled'
      ? [...(alarms.value.MetricAlarms || []), ...(alarms.value.CompositeAlarms || [])] : null;
    fill(cards,
      card(count(streams), 'Streams', 'streams'),
      card(count(delivery), 'Delivery streams', 'firehose'),
      card(count(fns), 'Functions', 'functions'),
      card(count(queues), 'Queues', 'queues'),
      card(alarmList ? alarmList.length : '–', 'Alarms in ALARM', 'alarms'));
    if (alarmList) {
      fill(alarming, table([
        { title: 'Alarm', cell: (a) => a.AlarmName },
        { title: 'State', cell: (a) => badge(a.StateValue) },
        { title: 'Reason', cell: (a) => a.StateReason },
        { title: 'Since', cell: (a) => when(a.StateUpdatedTimestamp) },
      ], alarmList, { empty: 'No alarm is in ALARM.', testid: 'alarming' }));
    } else {
      fill(alarming, errorBox(alarms.reason));
    }
    if (streams.status !== 'fulfilled') { fill(top, errorBox(streams.reason)); return; }
    const names = streams.value.slice(0, 500).map((s) => s.StreamName);
    let totals = [];
    try {
      const period = Math.max(60, Math.ceil(win.seconds / 60) * 60);
      const data = await api.metricData(names.map((n, i) => api.stat(`s${i}`, 'AWS/Kinesis',
        'IncomingRecords', { StreamName: n }, 'Sum', period)), win);
      totals = names.map((n, i) => ({
        name: n,
        total: (data.get(`s${i}`)?.values || []).reduce((a, b) => a + b, 0),
      })).sort((a, b) => b.total - a.total).slice(0, 10);
    } catch (e) {
      fill(top, errorBox(e));
      return;
    }
    fill(top, table([
      { title: 'Stream', cell: (s) => link(s.name, 'streams', s.name) },
      { title: 'Incoming records', num: true, cell: (s) => num(s.total) },
    ], totals, { empty: 'No streams yet.', testid: 'top-streams' }));
  }
  return { update };
}

function card(n, label, page) {
  return h('a', { class: 'card', href: `#/${page}`, style: 'text-decoration:none;color:inherit' },
    h('div', { class: 'n' }, n), h('div', { class: 'l' }, label));
}
