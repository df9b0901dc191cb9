import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5'];

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * The x range to draw: one sample alone gets a few minutes around it (instead of uPlot
 * stretching it over years), and columns get half a step on each side so none is cut.
 */
function paddedTimeRange(u, min, max, bars) {
  const xs = u.data[0] ?? [];
  // uPlot widens a single time point by 86400/ms seconds (years); use the point itself.
  if (xs.length === 1) return [xs[0] - (bars ? 1800 : 300), xs[0] + (bars ? 1800 : 60)];
  if (min === max) return [min - 300, max + 60];
  if (!bars) return [min, max];
  const step = (max - min) / (xs.length - 1);
  return [min - step / 2, max + step / 2];
}

/**
 * A time-series chart (uPlot). `data` is `[xs (unix seconds), ...ys]`; `series` names each y.
 * A series with `scale: 'right'` gets its own axis on the right. `bars` draws columns.
 */
export function TimeChart({ data, series, height = 220, label, bars = false, yFormat, rightFormat }) {
  const box = useRef(null);
  const plot = useRef(null);
  const hasData = data && data[0] && data[0].length > 0;

  useEffect(() => {
    if (!box.current || !hasData) return undefined;
    const text = cssVar('--text-muted', '#666');
    const grid = cssVar('--border', '#ddd');
    const axis = (side, scale, format) => ({
      scale,
      side,
      stroke: text,
      grid: { stroke: grid, width: 1, show: side === 3 },
      ticks: { stroke: grid, width: 1 },
      values: format ? (_u, values) => values.map(format) : undefined,
      size: 60,
    });
    const usesRight = series.some((s) => s.scale === 'right');
    const options = {
      width: Math.max(240, box.current.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: (u, min, max) => paddedTimeRange(u, min, max, bars) }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        axis(3, 'y', yFormat),
        ...(usesRight ? [axis(1, 'right', rightFormat)] : []),
      ],
      series: [
        {},
        ...series.map((s, i) => {
          const color = cssVar(PALETTE[i % PALETTE.length], '#2f6fdb');
          return {
            label: s.label,
            scale: s.scale ?? 'y',
            stroke: color,
            width: bars ? 0 : 2,
            fill: bars ? color : `${color}22`,
            points: { show: !bars },
            ...(bars ? { paths: uPlot.paths.bars({ size: [0.7, 40] }) } : {}),
          };
        }),
      ],
    };
    if (usesRight) options.scales.right = { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] };
    plot.current = new uPlot(options, data, box.current);
    const resize = new ResizeObserver(() => {
      if (plot.current && box.current) plot.current.setSize({ width: Math.max(240, box.current.clientWidth), height });
    });
    resize.observe(box.current);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuild when the shape changes; data alone is pushed with setData below.
  }, [hasData, series.map((s) => s.label).join('|'), height, bars]);

  useEffect(() => {
    if (plot.current && hasData) plot.current.setData(data);
  }, [data]);

  if (!hasData) return html`<div class="chart-empty" role="img" aria-label=${`${label}: no data yet`}>No data yet.</div>`;
  return html`<figure class="chart" role="img" aria-label=${label}><div ref=${box}></div></figure>`;
}
