// SPDX-License-Identifier: Apache-2.0
// Queues: every queue's depth (GetQueueAttributes) and the age of its oldest message (the
// ApproximateAgeOfOldestMessage metric, one GetMetricData call for all rows), and per
// queue its depth and age charts.

import * as api from '../api.js';
import { chart } from '../chart.js';
import { h, fill, table, link, num, ago, kv, errorBox, pager } from '../ui.js';

export function mount(el, params, app) {
  return params.length ? detail(el, params[0], app) : list(el, app);
}

const queueName = (url) => url.split('/').pop();

function deadLetterTarget(policy) {
  try {
    return policy ? String(JSON.parse(policy).deadLetterTargetArn || '').split(':').pop() : '';
  } catch (_) {
    return '';
  }
}

async function urls() {
  return api.all((b) => api.sqs('ListQueues', b), { MaxResults: 1000 }, (p) => p.QueueUrls);
}

function list(el, app) {
  const pages = pager('queues', () => app.refresh());
  const body = h('div', {});
  el.append(h('h1', {}, 'Queues'), pages.toolbar, body, pages.buttons);
  async function update() {
    const win = app.win();
    const shown = pages.slice(await urls(), queueName);
    const [attrs, data] = await Promise.all([
      Promise.all(shown.map((u) => api.sqs('GetQueueAttributes', { QueueUrl: u, AttributeNames: ['All'] })
        .then((r) => r.Attributes || {}, () => ({})))),
      api.metricData(shown.map((u, i) => api.stat(`a${i}`, 'AWS/SQS', 'ApproximateAgeOfOldestMessage',
        { QueueName: queueName(u) }, 'Maximum', win.period)), win).catch(() => new Map()),
    ]);
    const rows = shown.map((u, i) => ({ url: u, name: queueName(u), a: attrs[i], age: data.get(`a${i}`) }));
    fill(body, table([
      { title: 'Queue', cell: (q) => link(q.name, 'queues', q.name) },
      { title: 'Type', cell: (q) => (q.a.FifoQueue === 'true' ? 'FIFO' : 'Standard') },
      { title: 'Visible', num: true, cell: (q) => num(Number(q.a.ApproximateNumberOfMessages)) },
      { title: 'In flight', num: true, cell: (q) => num(Number(q.a.ApproximateNumberOfMessagesNotVisible)) },
      { title: 'Delayed', num: true, cell: (q) => num(Number(q.a.ApproximateNumberOfMessagesDelayed)) },
      { title: 'Oldest message', num: true, cell: (q) => (q.age?.values.length ? ago(q.age.values[q.age.values.length - 1]) : '–') },
      { title: 'Dead-letter target', cell: (q) => deadLetterTarget(q.a.RedrivePolicy) },
    ], rows, { testid: 'queues', empty: 'No queues yet.' }));
  }
  return { update };
}

function detail(el, name, app) {
  const head = h('div', {});
  const charts = h('div', { class: 'charts' });
  el.append(h('h1', {}, name), head, h('h2', {}, 'Metrics'), charts);
  async function update() {
    const win = app.win();
    try {
      const { QueueUrl } = await api.sqs('GetQueueUrl', { QueueName: name });
      const { Attributes: a = {} } = await api.sqs('GetQueueAttributes', { QueueUrl, AttributeNames: ['All'] });
      fill(head, h('div', { class: 'panel', 'data-testid': 'queue-attributes' }, kv([
        ['URL', QueueUrl],
        ['Visible messages', a.ApproximateNumberOfMessages],
        ['In flight', a.ApproximateNumberOfMessagesNotVisible],
        ['Delayed', a.ApproximateNumberOfMessagesDelayed],
        ['Visibility timeout', a.VisibilityTimeout ? `${a.VisibilityTimeout} s` : undefined],
        ['Retention', a.MessageRetentionPeriod ? ago(Number(a.MessageRetentionPeriod)) : undefined],
        ['Redrive policy', a.RedrivePolicy],
        ['ARN', a.QueueArn],
      ])));
    } catch (e) {
      fill(head, errorBox(e));
    }
    const dims = { QueueName: name };
    const data = await api.metricData([
      api.stat('vis', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', dims, 'Maximum', win.period, 'Visible'),
      api.stat('nv', 'AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', dims, 'Maximum', win.period, 'In flight'),
      api.stat('age', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', dims, 'Maximum', win.period, 'Age of oldest (s)'),
      api.stat('sent', 'AWS/SQS', 'NumberOfMessagesSent', dims, 'Sum', win.period, 'Sent'),
      api.stat('recv', 'AWS/SQS', 'NumberOfMessagesReceived', dims, 'Sum', win.period, 'Received'),
    ], win).catch(() => new Map());
    const s = (id) => (data.get(id) ? [data.get(id)] : []);
    fill(charts, chart('Depth', [...s('vis'), ...s('nv')]), chart('Age of oldest message (s)', s('age')),
      chart('Sent and received', [...s('sent'), ...s('recv')]));
  }
  return { update };
}
