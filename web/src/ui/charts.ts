// Charts (Chart.js on <canvas>, which the Content-Security-Policy allows: it draws, it does not
// inject styles). Only the parts used are registered, to keep the bundle small. Each chart is a
// <figure> with a caption, an aria-label summary on the canvas, and the same numbers as a table
// in a <details> for people who cannot see the drawing.
import {
  Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale,
  LinearScale, Legend, Tooltip,
} from 'chart.js';
import { h } from '../dom';
import { t } from '../i18n';
import { table } from './components';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale,
  LinearScale, Legend, Tooltip);

export const LEVEL_COLORS: Record<string, string> = {
  critical: '#7b1fa2',
  high: '#c62828',
  medium: '#ef6c00',
  low: '#f9a825',
  informational: '#78909c',
};

export interface Series {
  label: string;
  data: number[];
  color: string;
}

const charts = new Set<Chart>();

// Charts of a page that was left are destroyed (their resize observers would leak).
function sweep(): void {
  for (const chart of charts) {
    if (!chart.canvas.isConnected) {
      chart.destroy();
      charts.delete(chart);
    }
  }
}

export function chartFigure(options: {
  title: string;
  type: 'bar' | 'line';
  labels: string[];
  series: Series[];
  stacked?: boolean;
  horizontal?: boolean;
  summary: string;
}): HTMLElement {
  sweep();
  if (!options.labels.length) {
    return h('figure', { class: 'chart-figure' }, h('figcaption', null, options.title), h('p', { class: 'empty' }, t('common.empty')));
  }
  const canvas = h('canvas', { role: 'img', 'aria-label': `${options.title}: ${options.summary}` });
  const holder = h('div', { class: options.horizontal ? 'chart chart-tall' : 'chart' }, canvas);
  const rows = options.labels.map((label, i) => ({ label, values: options.series.map((s) => s.data[i] ?? 0) }));
  const dataTable = table(
    [{ label: t('chart.category'), render: (r: { label: string }) => r.label },
      ...options.series.map((s, i) => ({ label: s.label, class: 'num', render: (r: { values: number[] }) => String(r.values[i]) }))],
    rows, { empty: t('common.empty'), label: options.title });
  const figure = h('figure', { class: 'chart-figure' },
    h('figcaption', null, options.title),
    holder,
    h('details', { class: 'chart-data' }, h('summary', null, t('chart.show_data')), dataTable));
  // Drawn once the figure is in the document (Chart.js measures its container).
  queueMicrotask(() => requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    const chart = new Chart(canvas, {
      type: options.type,
      data: {
        labels: options.labels,
        datasets: options.series.map((s) => ({
          label: s.label,
          data: s.data,
          backgroundColor: s.color,
          borderColor: s.color,
          borderWidth: options.type === 'line' ? 2 : 0,
          pointRadius: options.type === 'line' ? 2 : 0,
          tension: 0.2,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: options.horizontal ? 'y' : 'x',
        scales: {
          x: { stacked: options.stacked, beginAtZero: true, ticks: { maxRotation: 0, autoSkip: true, precision: 0 } },
          y: { stacked: options.stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { display: options.series.length > 1, position: 'bottom' } },
      },
    });
    charts.add(chart);
  }));
  return figure;
}
