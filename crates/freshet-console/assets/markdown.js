// SPDX-License-Identifier: Apache-2.0
// A tiny Markdown renderer for dashboard text widgets: headings, paragraphs, lists, code
// blocks, **bold**, *italic*, `code` and [links](https://...). It builds DOM nodes with
// text content only, so markup in the source shows as text; links are http(s) or in-page.

import { h } from './ui.js';

/** The rendered Markdown as a <div class="md">. */
export function markdown(src) {
  const root = h('div', { class: 'md' });
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  let list = null;
  const flush = () => {
    if (para.length) root.append(h('p', {}, inline(para.join(' '))));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('```')) {
      flush(); list = null;
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
      root.append(h('pre', {}, h('code', {}, code.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*[-*+]\s+(.*)$/.exec(line);
    if (heading) {
      flush(); list = null;
      root.append(h(`h${heading[1].length}`, {}, inline(heading[2])));
    } else if (item) {
      flush();
      if (!list) { list = h('ul', {}); root.append(list); }
      list.append(h('li', {}, inline(item[1])));
    } else if (!line.trim()) {
      flush(); list = null;
    } else {
      list = null;
      para.push(line.trim());
    }
  }
  flush();
  return root;
}

const INLINE = /(\*\*([^*]+)\*\*)|(\*([^*]+)\*)|(`([^`]+)`)|(\[([^\]]+)\]\(([^)\s]+)\))/;

/** Inline spans of one block as nodes. */
export function inline(text) {
  const out = [];
  let rest = text;
  for (let m = INLINE.exec(rest); m; m = INLINE.exec(rest)) {
    if (m.index) out.push(rest.slice(0, m.index));
    if (m[2] !== undefined) out.push(h('strong', {}, m[2]));
    else if (m[4] !== undefined) out.push(h('em', {}, m[4]));
    else if (m[6] !== undefined) out.push(h('code', {}, m[6]));
    else out.push(h('a', { href: m[9], rel: 'noopener noreferrer', target: '_blank' }, m[8]));
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) out.push(rest);
  return out;
}
