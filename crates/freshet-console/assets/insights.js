// SPDX-License-Identifier: Apache-2.0
// CloudWatch Logs Insights from the browser: dashboards' `log` widgets and the logs page's
// query box. A query runs as the AWS console runs it: StartQuery, then GetQueryResults until
// the query ends. Results are rendered by the widget's `view`: a table, or, for results with
// a time column (`stats ... by bin(5m)`), a time-series chart; `bar` and `pie` views of
// results without one show each row's value as a bar.

import * as api from './api.js';
import { chart } from './chart.js';
import { h, table, num } from './ui.js';

const DONE = new Set(['Complete', 'Failed', 'Cancelled', 'Timeout', 'Unknown']);
// Upper bound on one query's polling; a query still running then is shown as it stands.
const MAX_WAIT_MS = 60_000;

/**
 * A dashboard log widget's `query` split into its log groups and the query proper:
 * `SOURCE 'a' | SOURCE "b" | fields ...` → { groups: ['a', 'b'], query: 'fields ...' }.
 */
export function splitSource(text) {
  const groups = [];
  let rest = String(text ?? '').trim();
  const source = /^SOURCE\s+(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(?:\||$)/i;
  for (let m = source.exec(rest); m; m = source.exec(rest)) {
    groups.push((m[1] ?? m[2]).replace(/\\(.)/g, '$1'));
    rest = rest.slice(m[0].length).trim();
  }
  return { groups, query: rest || 'fields @timestamp, @message' };
}

/**
 * Runs `query` over `groups` in the window `win` (epoch seconds); resolves to
 * { status, fields, rows, statistics } where rows are objects keyed by field name.
 */
export async function runQuery(groups, query, win, { limit } = {}) {
  const { queryId } = await api.logs('StartQuery', {
    logGroupNames: groups,
    startTime: Math.floor(win.start),
    endTime: Math.ceil(win.end),
    queryString: query,
    ...(limit ? { limit } : {}),
  });
  const deadline = Date.now() + MAX_WAIT_MS;
  let delay = 100;
  let page;
  for (;;) {
    page = await api.logs('GetQueryResults', { queryId });
    if (DONE.has(page.status) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(1000, delay * 2);
  }
  if (!DONE.has(page.status)) {
    api.logs('StopQuery', { queryId }).catch(() => {});
  }
  return { status: page.status, statistics: page.statistics || {}, ...rowsOf(page.results || []) };
}

/** GetQueryResults' `results` ([[{ field, value }]]) as field names and row objects. */
export function rowsOf(results) {
  const fields = [];
  const seen = new Set();
  const rows = results.map((cells) => {
    const row = {};
    for (const { field, value } of cells || []) {
      if (field === undefined) continue;
      row[field] = value;
      if (field !== '@ptr' && !seen.has(field)) {
        seen.add(field);
        fields.push(field);
      }
    }
    return row;
  });
  return { fields, rows };
}

// Logs Insights prints times as `2024-05-01 12:34:56.789` (UTC).
const INSIGHTS_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$/;

function seconds(text) {
  const ms = Date.parse(String(text).replace(' ', 'T').replace(/Z?$/, 'Z'));
  return Number.isNaN(ms) ? null : ms / 1000;
}

const isNumber = (v) => v !== undefined && v !== '' && Number.isFinite(Number(v));

/**
 * The chart series of a result: the time column is the first field whose every value is an
 * Insights time, the numeric fields are values, and any other field splits the rows into
 * one series per value (`stats count(*) by bin(1m), level` → one line per level).
 */
export function seriesOf({ fields, rows }) {
  const timeField = fields.find((f) => rows.length && rows.every((r) => r[f] === undefined || INSIGHTS_TIME.test(r[f])));
  if (!timeField) return null;
  const valueFields = fields.filter((f) => f !== timeField && rows.some((r) => isNumber(r[f]))
    && rows.every((r) => r[f] === undefined || isNumber(r[f])));
  const groupFields = fields.filter((f) => f !== timeField && !valueFields.includes(f));
  const series = new Map();
  for (const r of rows) {
    const t = seconds(r[timeField]);
    if (t === null) continue;
    const group = groupFields.map((f) => r[f] ?? '').join(' ');
    for (const f of valueFields) {
      if (!isNumber(r[f])) continue;
      const label = [group, valueFields.length > 1 || !group ? f : ''].filter(Boolean).join(' ');
      const s = series.get(label) || { label, timestamps: [], values: [] };
      s.timestamps.push(t);
      s.values.push(Number(r[f]));
      series.set(label, s);
    }
  }
  for (const s of series.values()) {
    const idx = s.timestamps.map((_, i) => i).sort((a, b) => s.timestamps[a] - s.timestamps[b]);
    s.timestamps = idx.map((i) => s.timestamps[i]);
    s.values = idx.map((i) => s.values[i]);
  }
  return [...series.values()];
}

/** A result as a table (or the view the widget asks for), with the query's status line. */
export function render(result, { view = 'table', title, height = 6 } = {}) {
  const info = h('div', { class: 'muted small', 'data-testid': 'insights-status' },
    `${result.status}: ${result.rows.length} rows, ${num(result.statistics.recordsMatched ?? 0)} of `
    + `${num(result.statistics.recordsScanned ?? 0)} records matched`);
  const head = title ? h('div', { class: 't' }, title) : null;
  if (view === 'timeSeries' || view === 'bar' || view === 'pie') {
    const series = seriesOf(result);
    if (series && view === 'timeSeries') {
      const c = chart(title || 'Logs Insights', series, { height: Math.max(60, height * 44 - 90), testid: 'insights-chart' });
      return h('div', {}, c, info);
    }
    const bars = barsOf(result);
    if (bars) return h('div', {}, head, bars, info);
  }
  const shown = result.fields;
  return h('div', {}, head, h('div', { class: 'scroll' }, table(shown.map((f) => ({
    title: f,
    num: result.rows.some((r) => isNumber(r[f])) && result.rows.every((r) => r[f] === undefined || isNumber(r[f])),
    cell: (r) => (r[f] === undefined ? '' : String(r[f])),
  })), result.rows, { testid: 'insights-table', empty: 'No results in this time range.' })), info);
}

/** One bar per row: the row's non-numeric fields name it, its first numeric field sizes it. */
function barsOf({ fields, rows }) {
  const valueField = fields.find((f) => rows.length && rows.every((r) => r[f] === undefined || isNumber(r[f])));
  if (!valueField) return null;
  const nameFields = fields.filter((f) => f !== valueField);
  const max = Math.max(...rows.map((r) => Math.abs(Number(r[valueField] ?? 0))), 1e-9);
  return h('div', { class: 'bars', 'data-testid': 'insights-bars' }, rows.slice(0, 100).map((r) => {
    const v = Number(r[valueField] ?? 0);
    const bar = h('div', { class: 'bar' });
    bar.style.width = `${Math.round((Math.abs(v) / max) * 100)}%`;
    return h('div', { class: 'barrow' },
      h('span', { class: 'bl' }, nameFields.map((f) => r[f] ?? '').join(' ') || valueField),
      h('span', { class: 'bt' }, bar), h('span', { class: 'bv' }, num(v, 2)));
  }));
}
