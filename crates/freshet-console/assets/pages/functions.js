// SPDX-License-Identifier: Apache-2.0
// Functions: the list, and one function's configuration, invocation/error/duration charts
// and its recent logs, tailed live from /aws/lambda/<name> by FilterLogEvents polling.

import * as api from '../api.js';
import { chart } from '../chart.js';
import { h, fill, table, link, when, kv, bytes, errorBox } from '../ui.js';
import { tail } from './logs.js';

export function mount(el, params, app) {
  return params.length ? detail(el, params[0], app) : list(el);
}

function list(el) {
  const body = h('div', {});
  el.append(h('h1', {}, 'Functions'), body);
  async function update() {
    const fns = [];
    let marker;
    do {
      const page = await api.lambda(`/?MaxItems=50${marker ? `&Marker=${encodeURIComponent(marker)}` : ''}`);
      fns.push(...(page.Functions || []));
      marker = page.NextMarker;
    } while (marker);
    fill(body, table([
      { title: 'Name', cell: (f) => link(f.FunctionName, 'functions', f.FunctionName) },
      { title: 'Runtime', cell: (f) => f.Runtime || f.PackageType },
      { title: 'Handler', cell: (f) => f.Handler },
      { title: 'Memory', num: true, cell: (f) => `${f.MemorySize} MB` },
      { title: 'Timeout', num: true, cell: (f) => `${f.Timeout} s` },
      { title: 'Code size', num: true, cell: (f) => bytes(f.CodeSize) },
      { title: 'Last modified', cell: (f) => when(f.LastModified) },
    ], fns, { testid: 'functions', empty: 'No functions yet.' }));
  }
  return { update };
}

function detail(el, name, app) {
  const config = h('div', {});
  const charts = h('div', { class: 'charts' });
  const logBox = h('div', { class: 'logs', 'data-testid': 'function-logs' });
  el.append(h('h1', {}, name), config, h('h2', {}, 'Metrics'), charts,
    h('h2', {}, 'Recent logs ', h('span', { class: 'muted' }, `/aws/lambda/${name}`)), logBox);
  const logs = tail(logBox, `/aws/lambda/${name}`);
  async function update() {
    const win = app.win();
    try {
      const f = await api.lambda(`/${encodeURIComponent(name)}`);
      const c = f.Configuration || {};
      fill(config, h('div', { class: 'panel' }, kv([
        ['Runtime', c.Runtime],
        ['Handler', c.Handler],
        ['Memory', c.MemorySize ? `${c.MemorySize} MB` : undefined],
        ['Timeout', c.Timeout ? `${c.Timeout} s` : undefined],
        ['State', c.State],
        ['Description', c.Description],
        ['Role', c.Role],
        ['ARN', c.FunctionArn],
        ['Last modified', when(c.LastModified)],
      ])));
    } catch (e) {
      fill(config, errorBox(e));
    }
    const dims = { FunctionName: name };
    const data = await api.metricData([
      api.stat('inv', 'AWS/Lambda', 'Invocations', dims, 'Sum', win.period, 'Invocations'),
      api.stat('err', 'AWS/Lambda', 'Errors', dims, 'Sum', win.period, 'Errors'),
      api.stat('thr', 'AWS/Lambda', 'Throttles', dims, 'Sum', win.period, 'Throttles'),
      api.stat('avg', 'AWS/Lambda', 'Duration', dims, 'Average', win.period, 'Duration avg (ms)'),
      api.stat('max', 'AWS/Lambda', 'Duration', dims, 'Maximum', win.period, 'Duration max (ms)'),
    ], win).catch(() => new Map());
    const s = (id) => (data.get(id) ? [data.get(id)] : []);
    fill(charts, chart('Invocations', s('inv')), chart('Errors and throttles', [...s('err'), ...s('thr')]),
      chart('Duration (ms)', [...s('avg'), ...s('max')]));
    await logs.poll(win);
  }
  return { update };
}
