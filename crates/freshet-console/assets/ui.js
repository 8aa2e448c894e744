// SPDX-License-Identifier: Apache-2.0
// DOM helpers. Every piece of API data reaches the page as a text node or an attribute
// value set through the DOM, never as HTML: nothing here parses markup.

/** An element: `h('td', { class: 'num' }, 'text', childNode, ...)`. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'href') el.setAttribute('href', safeHref(String(v)));
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Only same-page fragments, relative paths and http(s) links; anything else is inert. */
export function safeHref(href) {
  if (href.startsWith('#') || href.startsWith('/')) return href;
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '#';
  } catch (_) {
    return '#';
  }
}

/** A hash link to a page, each part URI-encoded. */
export function link(text, ...parts) {
  return h('a', { href: route(...parts) }, text);
}

export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function badge(state) {
  return h('span', { class: `badge ${String(state).replace(/[^A-Za-z_]/g, '')}` }, state);
}

/** A table; `cols` are { title, num?, cell(row) -> node|text }. */
export function table(cols, rows, { onclick, empty = 'Nothing here yet.', testid } = {}) {
  if (!rows.length) return h('p', { class: 'muted', 'data-testid': testid }, empty);
  return h('table', { 'data-testid': testid },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: c.num ? 'num' : null }, c.title)))),
    h('tbody', {}, rows.map((r) => h('tr', {
      class: onclick ? 'clickable' : null,
      onclick: onclick ? () => onclick(r) : null,
    }, cols.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))))));
}

/** A definition list of [label, value] pairs, skipping empty values. */
export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function num(n, digits = 0) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(1) + 'G';
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return Number(n).toFixed(digits).replace(/\.0+$/, '');
}

export function bytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(u.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** A duration in seconds, as people read it. */
export function ago(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** Epoch seconds (or ms, or ISO) as local date-time text. */
export function when(t) {
  if (t === undefined || t === null || t === '') return '–';
  const ms = typeof t === 'number' ? (t > 1e11 ? t : t * 1000) : Date.parse(t);
  if (Number.isNaN(ms)) return String(t);
  return new Date(ms).toLocaleString(undefined, { hour12: false });
}

export function errorBox(e) {
  return h('p', { class: 'error', 'data-testid': 'error' }, e && e.message ? e.message : String(e));
}

/** A small inline SVG line of `values` (numbers only reach the markup). */
export function sparkline(values, width = 120, height = 24) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('class', 'spark');
  const vs = values.filter((v) => Number.isFinite(v));
  if (vs.length > 1) {
    const max = Math.max(...vs, 1e-9);
    const pts = vs.map((v, i) => `${(i / (vs.length - 1)) * width},${height - 2 - (v / max) * (height - 4)}`);
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', pts.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', '#2f6fde');
    line.setAttribute('stroke-width', '1.5');
    svg.append(line);
  }
  return svg;
}

/**
 * A name filter and page buttons for long lists: `slice(items, name)` returns the rows of
 * the current page (of `size`) among the items whose name contains the filter text, and
 * updates the counts; any change calls `onchange`.
 */
export function pager(what, onchange, size = 50) {
  let page = 0;
  const input = h('input', { type: 'search', placeholder: 'Filter by name', 'aria-label': `Filter ${what}` });
  const info = h('span', { class: 'muted' });
  const prev = h('button', { class: 'b' }, '‹ Prev');
  const next = h('button', { class: 'b' }, 'Next ›');
  const pageText = h('span', { class: 'muted' });
  input.addEventListener('input', () => { page = 0; onchange(); });
  prev.addEventListener('click', () => { if (page > 0) { page--; onchange(); } });
  next.addEventListener('click', () => { page++; onchange(); });
  return {
    toolbar: h('div', { class: 'toolbar' }, input, info),
    buttons: h('div', { class: 'pager' }, prev, pageText, next),
    get filter() { return input.value.trim(); },
    slice(items, name) {
      const filter = input.value.trim();
      const shown = items.filter((x) => !filter || name(x).includes(filter));
      const pages = Math.max(1, Math.ceil(shown.length / size));
      page = Math.min(page, pages - 1);
      info.textContent = `${shown.length} of ${items.length} ${what}`;
      pageText.textContent = `Page ${page + 1} of ${pages}`;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
      return shown.slice(page * size, page * size + size);
    },
  };
}
