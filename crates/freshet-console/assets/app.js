// SPDX-License-Identifier: Apache-2.0
// The console shell: hash routing (#/<page>/<name>), the time range, and live updates.
//
// A page module exports `mount(el, params, app)`, which builds the page's fixed parts and
// returns { update }: an async function that fetches and redraws the live parts. The shell
// calls update once, then every POLL_MS while the tab is visible and Live is on, never two
// at once, and again when the range changes. A route change discards the old page.

import { timeWindow } from './api.js';
import { setTimeRange } from './chart.js';
import { h, fill, link, errorBox } from './ui.js';
import * as overview from './pages/overview.js';
import * as streams from './pages/streams.js';
import * as firehose from './pages/firehose.js';
import * as functions from './pages/functions.js';
import * as queues from './pages/queues.js';
import * as alarms from './pages/alarms.js';
import * as dashboards from './pages/dashboards.js';
import * as logs from './pages/logs.js';

const POLL_MS = 7000;
const PAGES = { '': overview, streams, firehose, functions, queues, alarms, dashboards, logs };
const TITLES = {
  '': 'Overview', streams: 'Streams', firehose: 'Delivery streams', functions: 'Functions',
  queues: 'Queues', alarms: 'Alarms', dashboards: 'Dashboards', logs: 'Logs',
};

const state = {
  range: localStorage.getItem('freshet.range') || '1h',
  live: localStorage.getItem('freshet.live') !== 'off',
  page: null,
  generation: 0,
  busy: false,
  pending: false,
};

const app = {
  get range() { return state.range; },
  win() {
    const win = timeWindow(state.range);
    setTimeRange(win.start, win.end);
    return win;
  },
  refresh() { tick(true); },
};

function parse() {
  const [path] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch (_) { return p; }
  });
  return { page: parts[0] || '', params: parts.slice(1) };
}

function navigate() {
  const { page, params } = parse();
  const mod = PAGES[page];
  const main = document.getElementById('main');
  state.generation++;
  for (const a of document.querySelectorAll('nav.side a')) {
    const target = a.getAttribute('href').replace(/^#\/?/, '');
    a.classList.toggle('on', target === page && a.getAttribute('href').startsWith('#'));
  }
  const crumbs = document.getElementById('crumbs');
  fill(crumbs, page ? link(TITLES[page] || page, page) : null, params.length ? [' / ', params.join(' / ')] : null);
  document.title = ['Freshet', TITLES[page] || page, ...params].filter(Boolean).join(' · ');
  main.scrollTop = 0;
  if (!mod) {
    state.page = null;
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'No page ', page, '. '), link('Overview'));
    return;
  }
  fill(main);
  try {
    state.page = mod.mount(main, params, app);
  } catch (e) {
    state.page = null;
    fill(main, errorBox(e));
    return;
  }
  tick(true);
}

async function tick(force) {
  if (!state.page) return;
  if (state.busy) { state.pending = state.pending || force; return; }
  if (!force && (!state.live || document.hidden)) return;
  const generation = state.generation;
  const page = state.page;
  state.busy = true;
  const status = document.getElementById('status');
  try {
    await page.update();
    if (generation === state.generation) {
      status.className = 'status';
      status.textContent = `Updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
    }
  } catch (e) {
    status.className = 'status error';
    status.textContent = e && e.message ? e.message : String(e);
  } finally {
    state.busy = false;
    if (state.pending) { state.pending = false; tick(true); }
  }
}

function setRange(range) {
  state.range = range;
  localStorage.setItem('freshet.range', range);
  for (const b of document.querySelectorAll('#range button')) b.classList.toggle('on', b.dataset.range === range);
  tick(true);
}

function setLive(live) {
  state.live = live;
  localStorage.setItem('freshet.live', live ? 'on' : 'off');
  const b = document.getElementById('live');
  b.classList.toggle('on', live);
  b.textContent = live ? 'Live' : 'Paused';
}

for (const b of document.querySelectorAll('#range button')) b.addEventListener('click', () => setRange(b.dataset.range));
document.getElementById('live').addEventListener('click', () => { setLive(!state.live); if (state.live) tick(true); });
document.addEventListener('visibilitychange', () => { if (!document.hidden) tick(false); });
window.addEventListener('hashchange', navigate);
setInterval(() => tick(false), POLL_MS);
setLive(state.live);
for (const b of document.querySelectorAll('#range button')) b.classList.toggle('on', b.dataset.range === state.range);
navigate();
