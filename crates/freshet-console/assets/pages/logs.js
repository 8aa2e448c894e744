// SPDX-License-Identifier: Apache-2.0
// Logs: log groups, their streams, and a viewer that runs FilterLogEvents with a filter
// pattern over the time range and, when live, tails new events by polling from the newest
// timestamp it has shown; and a Logs Insights query box over the group and the time range.

import * as api from '../api.js';
import * as insights from '../insights.js';
import { h, fill, when, bytes, errorBox, route } from '../ui.js';

const MAX_LINES = 2000;

/**
 * A live log view in `box` over `group`: `poll(win)` loads the window the first time (or
 * after `reset`), then only events newer than the newest shown. Events already shown
 * (same id) are skipped, since a poll starts at the newest timestamp, not after it.
 */
export function tail(box, group, { pattern = () => '', streams = () => [] } = {}) {
  let since = null;
  let seen = new Set();
  let count = 0;
  // A poll that started before a reset (a new pattern, stream or range) is discarded.
  let generation = 0;
  function reset() {
    generation++;
    since = null;
    seen = new Set();
    count = 0;
    fill(box, h('span', { class: 'muted' }, 'Loading…'));
  }
  async function poll(win) {
    const gen = generation;
    const first = since === null;
    const body = {
      logGroupName: group,
      startTime: first ? win.start * 1000 : since,
      limit: 1000,
      ...(pattern() ? { filterPattern: pattern() } : {}),
      ...(streams().length ? { logStreamNames: streams() } : {}),
    };
    let events = [];
    try {
      events = await api.all((b) => api.logs('FilterLogEvents', b), body, (p) => p.events, 'nextToken', 'nextToken', 5000);
    } catch (e) {
      if (gen !== generation) return;
      if (first) fill(box, e.code === 'ResourceNotFoundException'
        ? h('span', { class: 'muted' }, `No log group ${group} yet.`) : errorBox(e));
      return;
    }
    if (gen !== generation) return;
    if (first) fill(box);
    const fresh = events.filter((e) => !seen.has(e.eventId)).sort((a, b) => a.timestamp - b.timestamp);
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    for (const e of fresh) {
      seen.add(e.eventId);
      since = Math.max(since ?? 0, e.timestamp);
      box.append(h('div', { class: 'line', 'data-testid': 'log-line' },
        h('span', { class: 'ts' }, when(e.timestamp)),
        streams().length === 1 ? null : h('span', { class: 'st' }, e.logStreamName),
        String(e.message ?? '').replace(/\n$/, '')));
      count++;
    }
    while (count > MAX_LINES && box.firstChild) { box.firstChild.remove(); count--; }
    if (since === null) since = win.start * 1000;
    if (first && !count) box.append(h('span', { class: 'muted' }, 'No matching events in this time range.'));
    if (atBottom || first) box.scrollTop = box.scrollHeight;
  }
  reset();
  return { poll, reset };
}

export function mount(el, params, app) {
  const group = params[0];
  const prefix = h('input', { type: 'search', placeholder: 'Log group prefix', 'aria-label': 'Log group prefix' });
  const groups = h('div', { class: 'list panel', 'data-testid': 'log-groups' });
  const right = h('div', {});
  el.append(h('h1', {}, group || 'Logs'), h('div', { class: 'cols' }, h('div', {}, h('div', { class: 'toolbar' }, prefix), groups), right));
  prefix.addEventListener('input', () => app.refresh());
  let viewer = null;
  if (group) viewer = groupViewer(right, group, app);
  else fill(right, h('p', { class: 'muted' }, 'Choose a log group.'));

  async function update() {
    const list = await api.all((b) => api.logs('DescribeLogGroups', b),
      prefix.value.trim() ? { logGroupNamePrefix: prefix.value.trim() } : {}, (p) => p.logGroups, 'nextToken', 'nextToken', 2000);
    fill(groups, list.length ? list.map((g) => h('a', {
      href: route('logs', g.logGroupName),
      class: g.logGroupName === group ? 'on' : null,
    }, g.logGroupName, h('span', { class: 'muted' }, ` ${bytes(g.storedBytes || 0)}`))) : h('p', { class: 'muted' }, 'No log groups.'));
    if (viewer) await viewer.update();
  }
  return { update };
}

function groupViewer(el, group, app) {
  const pattern = h('input', { type: 'text', class: 'wide', placeholder: 'Filter pattern, e.g. ERROR or { $.level = "error" }', 'aria-label': 'Filter pattern' });
  const streamSel = h('select', { 'aria-label': 'Log stream' }, h('option', { value: '' }, 'All streams'));
  const apply = h('button', { class: 'b', type: 'submit' }, 'Filter');
  const box = h('div', { class: 'logs', 'data-testid': 'log-events' });
  const form = h('form', { class: 'toolbar' }, pattern, streamSel, apply);
  el.append(form, box, queryBox(group, app));
  const view = tail(box, group, {
    pattern: () => pattern.value.trim(),
    streams: () => (streamSel.value ? [streamSel.value] : []),
  });
  let lastRange = null;
  const restart = () => { view.reset(); app.refresh(); };
  form.addEventListener('submit', (e) => { e.preventDefault(); restart(); });
  streamSel.addEventListener('change', restart);
  async function update() {
    const win = app.win();
    if (lastRange !== null && lastRange !== app.range) view.reset();
    lastRange = app.range;
    try {
      const { logStreams = [] } = await api.logs('DescribeLogStreams', { logGroupName: group, orderBy: 'LastEventTime', descending: true, limit: 50 });
      const chosen = streamSel.value;
      fill(streamSel, h('option', { value: '' }, 'All streams'),
        logStreams.map((s) => h('option', { value: s.logStreamName, selected: s.logStreamName === chosen ? 'selected' : null },
          `${s.logStreamName} (${when(s.lastEventTimestamp)})`)));
      streamSel.value = chosen;
    } catch (e) {
      fill(box, errorBox(e));
      return;
    }
    await view.poll(win);
  }
  return { update };
}

/** Logs Insights over `group` and the console's time range, run when asked. */
function queryBox(group, app) {
  const text = h('textarea', { class: 'wide', rows: '3', 'aria-label': 'Logs Insights query', spellcheck: 'false' });
  text.value = 'fields @timestamp, @message, @logStream\n| sort @timestamp desc\n| limit 100';
  const run = h('button', { class: 'b', type: 'submit' }, 'Run query');
  const out = h('div', { 'data-testid': 'insights-result' });
  const form = h('form', { class: 'insights' }, h('h2', {}, 'Logs Insights'), text, h('div', { class: 'toolbar' }, run), out);
  let generation = 0;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const gen = ++generation;
    run.disabled = true;
    fill(out, h('p', { class: 'muted', 'data-testid': 'insights-running' }, 'Running query…'));
    try {
      const result = await insights.runQuery([group], text.value, app.win());
      if (gen === generation) fill(out, insights.render(result, { view: 'table' }));
    } catch (err) {
      if (gen === generation) fill(out, errorBox(err));
    } finally {
      if (gen === generation) run.disabled = false;
    }
  });
  return form;
}
