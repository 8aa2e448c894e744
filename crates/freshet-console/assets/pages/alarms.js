// SPDX-License-Identifier: Apache-2.0
// Alarms: every metric and composite alarm with its state and reason, filterable by state;
// choosing one shows its configuration and history.

import * as api from '../api.js';
import { h, fill, table, link, badge, when, kv, errorBox } from '../ui.js';

export function mount(el, params) {
  const stateSel = h('select', { 'aria-label': 'State' },
    ['', 'ALARM', 'OK', 'INSUFFICIENT_DATA'].map((s) => h('option', { value: s }, s || 'Any state')));
  const body = h('div', {});
  const detailBox = h('div', {});
  const name = params[0];
  el.append(h('h1', {}, 'Alarms'), h('div', { class: 'toolbar' }, stateSel), body, detailBox);
  stateSel.addEventListener('change', () => update());

  async function update() {
    const alarms = [];
    let token;
    do {
      const page = await api.cloudwatch('DescribeAlarms', {
        MaxRecords: 100,
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        ...(stateSel.value ? { StateValue: stateSel.value } : {}),
        ...(token ? { NextToken: token } : {}),
      });
      alarms.push(...(page.MetricAlarms || []), ...(page.CompositeAlarms || []));
      token = page.NextToken;
    } while (token);
    alarms.sort((a, b) => rank(a.StateValue) - rank(b.StateValue) || a.AlarmName.localeCompare(b.AlarmName));
    fill(body, table([
      { title: 'Alarm', cell: (a) => link(a.AlarmName, 'alarms', a.AlarmName) },
      { title: 'State', cell: (a) => badge(a.StateValue) },
      { title: 'Condition', cell: condition },
      { title: 'Reason', cell: (a) => a.StateReason },
      { title: 'Updated', cell: (a) => when(a.StateUpdatedTimestamp) },
    ], alarms, { testid: 'alarms', empty: 'No alarms. Create one with aws cloudwatch put-metric-alarm.' }));
    if (!name) return;
    const a = alarms.find((x) => x.AlarmName === name);
    try {
      const history = await api.cloudwatch('DescribeAlarmHistory', { AlarmName: name, MaxRecords: 100, ScanBy: 'TimestampDescending' });
      fill(detailBox, h('h2', {}, name),
        a ? h('div', { class: 'panel' }, kv([
          ['State', badge(a.StateValue)],
          ['Reason', a.StateReason],
          ['Condition', condition(a)],
          ['Actions', (a.AlarmActions || []).join(', ')],
          ['Description', a.AlarmDescription],
          ['Rule', a.AlarmRule],
        ])) : null,
        h('h2', {}, 'History'),
        table([
          { title: 'When', cell: (i) => when(i.Timestamp) },
          { title: 'Type', cell: (i) => i.HistoryItemType },
          { title: 'Summary', cell: (i) => i.HistorySummary },
        ], history.AlarmHistoryItems || [], { testid: 'alarm-history', empty: 'No history yet.' }));
    } catch (e) {
      fill(detailBox, errorBox(e));
    }
  }
  return { update };
}

function rank(state) {
  return { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 }[state] ?? 3;
}

const OPS = {
  GreaterThanThreshold: '>', GreaterThanOrEqualToThreshold: '>=', LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

function condition(a) {
  if (a.AlarmRule) return a.AlarmRule;
  const metric = a.MetricName ? `${a.Namespace}/${a.MetricName}` : 'metric math';
  const op = OPS[a.ComparisonOperator] || a.ComparisonOperator || '';
  return `${a.Statistic || a.ExtendedStatistic || ''} ${metric} ${op} ${a.Threshold ?? ''} for ${a.EvaluationPeriods} × ${a.Period ?? ''}s`;
}
