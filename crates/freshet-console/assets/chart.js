// SPDX-License-Identifier: Apache-2.0
// Time-series charts with uPlot (vendored under vendor/, MIT). Series are aligned on the
// union of their timestamps; gaps stay gaps. The chart element records how many points it
// drew (data-points), which the console's browser tests assert on.

import { h } from './ui.js';

// The x range of every chart: the console's time range, so sparse data sits where it
// happened instead of filling the width. Set by the shell each time a page asks for it.
let xRange = null;

/** Sets the x range (epoch seconds) of the charts drawn from now on. */
export function setTimeRange(start, end) {
  xRange = [start, end];
}

const COLORS = ['#2f6fde', '#e4572e', '#1f8a4c', '#8e44ad', '#b26a00', '#17a2b8', '#d81b60', '#546e7a'];

/**
 * A chart panel: `series` is [{ label, timestamps (epoch s), values }]. Returns the
 * element; the chart is drawn once the element is in the page and sized with it.
 */
export function chart(title, series, { height = 180, testid } = {}) {
  const el = h('div', { class: 'chart', 'data-testid': testid || 'chart' }, h('div', { class: 't' }, title));
  const points = series.reduce((n, s) => n + s.values.filter((v) => Number.isFinite(v)).length, 0);
  el.dataset.points = String(points);
  if (!points) {
    el.append(h('div', { class: 'empty' }, 'No data in this time range.'));
    return el;
  }
  const xs = [...new Set(series.flatMap((s) => s.timestamps))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const data = [xs, ...series.map((s) => {
    const ys = new Array(xs.length).fill(null);
    s.timestamps.forEach((t, i) => { ys[index.get(t)] = s.values[i]; });
    return ys;
  })];
  const body = h('div', {});
  el.append(body);
  const range = xRange && xs[0] >= xRange[0] - 86400 ? [Math.min(xRange[0], xs[0]), Math.max(xRange[1], xs[xs.length - 1])] : null;
  const draw = () => {
    if (!window.uPlot || !el.isConnected) return;
    const width = Math.max(200, body.clientWidth || el.clientWidth - 16);
    const plot = new window.uPlot({
      width,
      height,
      legend: { show: true },
      scales: { x: { time: true, ...(range ? { range: () => range } : {}) } },
      axes: [{}, { size: 56, values: (_, ticks) => ticks.map(short) }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: false,
        points: { show: xs.length < 3 },
      }))],
    }, data, body);
    const ro = new ResizeObserver(() => {
      if (!el.isConnected) { ro.disconnect(); plot.destroy(); return; }
      const w = Math.max(200, body.clientWidth);
      if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
    });
    ro.observe(body);
  };
  // Drawn after insertion, so the width is known.
  requestAnimationFrame(draw);
  return el;
}

function short(v) {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return String(Math.round(v * 100) / 100);
}
