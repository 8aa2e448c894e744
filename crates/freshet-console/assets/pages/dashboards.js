// SPDX-License-Identifier: Apache-2.0
// Dashboards: the list, and one dashboard's body rendered on CloudWatch's 24-column grid:
// metric widgets as charts (all of a dashboard's queries in as few GetMetricData calls as
// possible, expressions included; `singleValue` views as numbers), alarm widgets as states,
// text widgets as Markdown (escaped, see markdown.js), log widgets as the results of their
// Logs Insights query (see insights.js).

import * as api from '../api.js';
import { chart } from '../chart.js';
import * as insights from '../insights.js';
import { markdown } from '../markdown.js';
import { h, fill, table, link, when, bytes, num, badge, errorBox } from '../ui.js';

export function mount(el, params, app) {
  return params.length ? detail(el, params[0], app) : list(el);
}

function list(el) {
  const body = h('div', {});
  el.append(h('h1', {}, 'Dashboards'), body);
  async function update() {
    const entries = await api.all((b) => api.cloudwatch('ListDashboards', b), {}, (p) => p.DashboardEntries);
    fill(body, table([
      { title: 'Dashboard', cell: (d) => link(d.DashboardName, 'dashboards', d.DashboardName) },
      { title: 'Size', num: true, cell: (d) => bytes(d.Size) },
      { title: 'Last modified', cell: (d) => when(d.LastModified) },
    ], entries, { testid: 'dashboards', empty: 'No dashboards. Create one with aws cloudwatch put-dashboard.' }));
  }
  return { update };
}

/**
 * The GetMetricData queries of one metric widget. `metrics` rows are
 * [Namespace, MetricName, DimName, DimValue, ..., {options}] with "." repeating the row
 * above, or [{ expression, id, label }]. Ids are prefixed per widget so one call can carry
 * several widgets; expressions refer to ids, so those are rewritten with the same prefix.
 */
export function widgetQueries(props, prefix, defaultPeriod) {
  const queries = [];
  let prev = [];
  const rows = Array.isArray(props.metrics) ? props.metrics : [];
  const ids = new Map();
  rows.forEach((row, i) => {
    if (!Array.isArray(row)) return;
    const last = row[row.length - 1];
    const opts = last && typeof last === 'object' && !Array.isArray(last) ? last : {};
    const parts = opts === last ? row.slice(0, -1) : row.slice();
    // Rows without an id get one no explicit id of the usual mN/eN style can collide with.
    const id = opts.id || `auto${i}`;
    ids.set(id, `${prefix}${id}`);
    if (opts.expression !== undefined) {
      queries.push({ Id: id, Expression: opts.expression, Label: opts.label, ReturnData: opts.visible !== false });
      return;
    }
    const full = parts.map((p, j) => (p === '.' || p === '…' ? prev[j] : p));
    prev = full;
    const [Namespace, MetricName, ...dims] = full;
    const Dimensions = [];
    for (let j = 0; j + 1 < dims.length; j += 2) Dimensions.push({ Name: String(dims[j]), Value: String(dims[j + 1]) });
    queries.push({
      Id: id,
      Label: opts.label || `${MetricName}${Dimensions.length ? ' ' + Dimensions.map((d) => d.Value).join(' ') : ''}`,
      MetricStat: {
        Metric: { Namespace, MetricName, Dimensions },
        Period: opts.period || props.period || defaultPeriod,
        Stat: opts.stat || props.stat || 'Average',
      },
      ReturnData: opts.visible !== false,
    });
  });
  const rename = (id) => ids.get(id) || `${prefix}${id}`;
  return queries.map((q) => ({
    ...q,
    Id: rename(q.Id),
    ...(q.Expression !== undefined
      ? { Expression: String(q.Expression).replace(/\b[a-z][A-Za-z0-9_]*\b/g, (w) => (ids.has(w) ? ids.get(w) : w)) }
      : {}),
  }));
}

function detail(el, name, app) {
  const grid = h('div', { class: 'dash', 'data-testid': 'dashboard' });
  const errors = h('div', {});
  el.append(h('h1', {}, name), errors, grid);
  // Log widgets' latest results by widget index and query; a query still running when the
  // next update comes is not started again. `redraw` holds each log widget's current cell
  // filler, so a query that ends redraws the widget as it is now on the page.
  const logs = new Map();
  const redraw = new Map();
  function logWidget(i, props, win, height) {
    const title = props.title || 'Logs Insights';
    const key = `${i}\u0000${props.query}\u0000${win.start}`;
    let entry = logs.get(i);
    if (!entry || entry.key !== key || (!entry.running && entry.at < Date.now() - 5000)) {
      const { groups, query } = insights.splitSource(props.query);
      const next = { key, at: Date.now(), running: true, result: entry?.key === key ? entry.result : null, error: null };
      logs.set(i, next);
      entry = next;
      (groups.length ? insights.runQuery(groups, query, win)
        : Promise.reject(new Error("The widget's query names no log group (SOURCE 'group' | ...)")))
        .then((r) => { next.result = r; next.error = null; }, (e) => { next.error = e; })
        .finally(() => {
          next.running = false;
          next.at = Date.now();
          if (logs.get(i) === next) redraw.get(i)?.();
        });
    }
    if (entry.error) return [h('div', { class: 't' }, title), errorBox(entry.error)];
    if (!entry.result) return [h('div', { class: 't' }, title), h('p', { class: 'muted', 'data-testid': 'insights-running' }, 'Running query…')];
    return insights.render(entry.result, { view: props.view || 'table', title, height });
  }
  async function update() {
    const win = app.win();
    const { DashboardBody } = await api.cloudwatch('GetDashboard', { DashboardName: name });
    let body;
    try {
      body = JSON.parse(DashboardBody || '{}');
    } catch (e) {
      fill(errors, errorBox(e));
      return;
    }
    const widgets = Array.isArray(body.widgets) ? body.widgets : [];
    const metricWidgets = widgets.map((w, i) => ({ w, i, prefix: `w${i}_` }))
      .filter(({ w }) => w.type === 'metric' && w.properties);
    const queries = metricWidgets.flatMap(({ w, prefix }) => widgetQueries(w.properties, prefix, win.period));
    let data = new Map();
    let failure = null;
    if (queries.length) {
      try {
        data = await api.metricData(queries, win);
      } catch (e) {
        failure = e;
      }
    }
    const alarmNames = widgets.filter((w) => w.type === 'alarm')
      .flatMap((w) => (w.properties?.alarms || []).map((arn) => String(arn).split(':alarm:').pop()));
    const alarmStates = new Map();
    if (alarmNames.length) {
      try {
        for (let j = 0; j < alarmNames.length; j += 100) {
          const page = await api.cloudwatch('DescribeAlarms', {
            AlarmNames: alarmNames.slice(j, j + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100,
          });
          for (const a of [...(page.MetricAlarms || []), ...(page.CompositeAlarms || [])]) alarmStates.set(a.AlarmName, a.StateValue);
        }
      } catch (e) {
        failure = failure || e;
      }
    }
    fill(errors, failure ? errorBox(failure) : null);
    let autoY = 0;
    fill(grid, widgets.map((w, i) => {
      const width = clamp(w.width ?? 6, 1, 24);
      const height = clamp(w.height ?? 6, 1, 1000);
      const x = clamp(w.x ?? 0, 0, 24 - width);
      const y = w.y ?? autoY;
      autoY = Math.max(autoY, y + height);
      const cell = h('div', { class: 'widget', 'data-testid': 'widget' });
      cell.style.gridColumn = `${x + 1} / span ${width}`;
      cell.style.gridRow = `${y + 1} / span ${height}`;
      const props = w.properties || {};
      if (w.type === 'text') {
        cell.append(markdown(props.markdown));
      } else if (w.type === 'metric') {
        const prefix = `w${i}_`;
        const series = [...data.entries()].filter(([id]) => id.startsWith(prefix)).map(([, s]) => s);
        if (props.view === 'singleValue') {
          cell.append(h('div', { class: 't' }, props.title || 'Metrics'), h('div', { class: 'cards' },
            series.map((s) => h('div', { class: 'card' },
              h('div', { class: 'n' }, s.values.length ? num(s.values[s.values.length - 1], 2) : '–'),
              h('div', { class: 'l' }, s.label)))));
        } else {
          cell.append(chart(props.title || 'Metrics', series, { height: Math.max(60, height * 44 - 70) }));
          cell.firstChild.style.border = 'none';
        }
      } else if (w.type === 'log') {
        const body = h('div', { class: 'logw', 'data-testid': 'log-widget' });
        const draw = () => fill(body, logWidget(i, props, win, height));
        redraw.set(i, draw);
        draw();
        cell.append(body);
      } else if (w.type === 'alarm') {
        const names = (props.alarms || []).map((arn) => String(arn).split(':alarm:').pop());
        const states = h('div', {}, names.map((n) => h('div', {}, badge(alarmStates.get(n) || 'INSUFFICIENT_DATA'), ' ', n)));
        cell.append(h('div', { class: 't' }, props.title || 'Alarms'), states);
      } else {
        cell.append(h('div', { class: 't' }, props.title || w.type),
          h('p', { class: 'muted' }, `${w.type} widgets are not shown in this console.`));
      }
      return cell;
    }));
  }
  return { update };
}

function clamp(v, lo, hi) {
  const n = Number(v);
  return Math.min(hi, Math.max(lo, Number.isFinite(n) ? Math.floor(n) : lo));
}
