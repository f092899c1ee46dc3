/** Completed and failed tasks per minute, with uPlot (canvas; sized through the CSSOM, no inline style). */
import type { Throughput } from '@tasklane/sdk';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function ThroughputChart({ data, label }: { data: Throughput; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const xs = data.buckets.map((b) => Date.parse(b.minute) / 1000);
    const opts: uPlot.Options = {
      width: Math.max(320, el.clientWidth),
      height: 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
      axes: [
        { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border') }, ticks: { stroke: cssVar('--border') } },
        { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border') }, ticks: { stroke: cssVar('--border') } },
      ],
      series: [
        {},
        {
          label: 'Completed',
          stroke: cssVar('--green'),
          fill: cssVar('--green-fill'),
          width: 2,
          points: { show: false },
        },
        { label: 'Failed', stroke: cssVar('--red'), width: 2, points: { show: false } },
      ],
    };
    const plot = new uPlot(opts, [xs, data.buckets.map((b) => b.completed), data.buckets.map((b) => b.failed)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data]);
  const total = data.buckets.reduce((n, b) => n + b.completed, 0);
  const failed = data.buckets.reduce((n, b) => n + b.failed, 0);
  return (
    <figure class="chart">
      <div
        ref={box}
        class="chart-canvas"
        role="img"
        aria-label={`${label}: ${total} completed and ${failed} failed in the last ${data.buckets.length} minutes`}
      />
      <figcaption class="muted small">
        {total} completed, {failed} failed in the last {data.buckets.length} minutes.
      </figcaption>
    </figure>
  );
}
