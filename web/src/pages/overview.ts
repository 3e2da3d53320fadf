// Overview: counts, alerts and incidents over time by level, by organisation and sector
// (GET /api/v1/stats/overview), the ATT&CK technique heatmap (GET /api/v1/attack/heatmap) as an
// accessible table, and the open and overdue requests and recommendations. Each part loads on
// its own, so one failing endpoint leaves the others readable.
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { get, describe, type ListPage } from '../api';
import { formatBucket, formatDate, formatNumber } from '../format';
import { setQuery, currentQuery } from '../router';
import type { PageContext } from '../app';
import type { Heatmap, MaterialsRequest, Overview, Recommendation } from '../types';
import { pageHeader, section, loading, notice, select, field, table, link, statusBadge, orgName } from '../ui/components';
import { chartFigure, LEVEL_COLORS } from '../ui/charts';
import { orgMap } from '../session';
import { heatClass } from '../heat';
import { values } from '../enums';
import { fetchHealth, healthNotices } from '../health';

const PERIODS: Record<string, { days: number; bucket: 'day' | 'hour' }> = {
  '1d': { days: 1, bucket: 'hour' },
  '7d': { days: 7, bucket: 'day' },
  '30d': { days: 30, bucket: 'day' },
  '90d': { days: 90, bucket: 'day' },
};
const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'] as const;

export function render(ctx: PageContext): HTMLElement {
  const query = currentQuery();
  const period = PERIODS[query.get('period') ?? ''] ? query.get('period')! : '30d';
  const dimension = ['organisation', 'sector', 'month'].includes(query.get('dimension') ?? '') ? query.get('dimension')! : (ctx.session.access.centre ? 'sector' : 'month');

  const periodSelect = select(Object.keys(PERIODS).map((k) => [k, t(`overview.period_${k}`)]), period);
  const periodField = field(t('overview.period'), periodSelect);
  periodSelect.addEventListener('change', () => { setQuery({ period: periodSelect.value, dimension }); ctx.refresh(); });

  const { days, bucket } = PERIODS[period];
  const to = new Date();
  const from = new Date(to.getTime() - days * 86400000);
  if (bucket === 'day') from.setUTCHours(0, 0, 0, 0);

  const cards = h('div', { class: 'cards' }, loading());
  const charts = h('div');
  const heat = h('div', { class: 'heatmap-area' }, loading());
  const pending = h('div', { class: 'two-col' });

  const health = h('div', { class: 'health-notices' });
  const page = h('div', { class: 'overview' },
    pageHeader(t('overview.title'), periodField.el),
    health,
    h('section', { class: 'panel', 'aria-labelledby': 'ov-counts' }, h('h2', { id: 'ov-counts' }, t('overview.counts')), cards),
    h('section', { class: 'panel', 'aria-labelledby': 'ov-charts' }, h('h2', { id: 'ov-charts' }, t('overview.trends')), charts),
    section(t('overview.heatmap'), heatmapControls(ctx, period, dimension, from, to), heat),
    pending);

  if (ctx.session.access.centre) void loadHealth(health);
  void loadStats(ctx, from, to, bucket, cards, charts);
  void loadHeatmap(from, to, dimension, heat);
  void loadPending(ctx, pending);
  return page;
}

// The service's own state, for the centre's staff: a quiet overview means little while live
// ingest refuses events. An answer that cannot be had says nothing here; the sections below
// report their own failures.
async function loadHealth(area: HTMLElement): Promise<void> {
  try {
    const notices = healthNotices(await fetchHealth());
    replace(area, ...notices.map((n) => notice(n.kind, t(n.key, n.params))));
  } catch {
    replace(area);
  }
}

// The dimension of the table's columns, and the same counts as an ATT&CK Navigator layer
// (GET /api/v1/attack/heatmap/layer) to open in the Navigator or lay over a group's layer.
function heatmapControls(ctx: PageContext, period: string, dimension: string, from: Date, to: Date): HTMLElement {
  const dim = select(['organisation', 'sector', 'month'].map((d) => [d, tEnum('heatmap.dimension', d)]), dimension);
  dim.addEventListener('change', () => { setQuery({ period, dimension: dim.value }); ctx.refresh(); });
  const layer = new URLSearchParams({ dimension, since: from.toISOString(), until: to.toISOString() });
  return h('div', { class: 'inline-controls' }, field(t('overview.heatmap_dimension'), dim).el,
    h('a', { class: 'heatmap-layer', href: `/api/v1/attack/heatmap/layer?${layer}`, download: 'yagura-enterprise-attack-layer.json' }, t('overview.heatmap_layer')),
    h('p', { class: 'help' }, t('overview.heatmap_help')));
}

async function loadStats(ctx: PageContext, from: Date, to: Date, bucket: 'day' | 'hour', cards: HTMLElement, charts: HTMLElement): Promise<void> {
  let stats: Overview;
  try {
    stats = await get<Overview>('/api/v1/stats/overview', { from: from.toISOString(), to: to.toISOString(), bucket });
  } catch (error) {
    replace(cards, notice('error', describe(error)));
    replace(charts);
    return;
  }
  const access = ctx.session.access;
  const card = (label: string, value: number, href?: string, warn = false) =>
    h('div', { class: warn && value > 0 ? 'card card-warn' : 'card' },
      h('p', { class: 'card-value' }, href ? link(href, formatNumber(value)) : formatNumber(value)),
      h('p', { class: 'card-label' }, label));
  replace(cards,
    access.pages.has('alerts') ? card(t('overview.alerts_open'), stats.alerts.open, '/alerts') : null,
    access.pages.has('alerts') ? card(t('overview.alerts_total'), stats.alerts.total, '/alerts') : null,
    card(t('overview.incidents_open'), stats.incidents.open, '/incidents'),
    card(t('overview.incidents_total'), stats.incidents.total, '/incidents'),
    access.pages.has('requests') ? card(t('overview.requests_open'), stats.requests.open, '/requests?status=open') : null,
    access.pages.has('requests') ? card(t('overview.requests_overdue'), stats.requests.overdue, '/requests?overdue=true', true) : null,
    access.pages.has('recommendations') ? card(t('overview.recommendations_open'), stats.recommendations.open, '/recommendations') : null,
    access.pages.has('recommendations') ? card(t('overview.recommendations_overdue'), stats.recommendations.overdue, '/recommendations', true) : null,
    card(t('overview.advisories_unacknowledged'), stats.advisories.unacknowledged, '/advisories?unacknowledged=true', true));

  const labels = stats.alerts.series.map((p) => formatBucket(p.t, stats.bucket));
  const orgs = await orgMap();
  const figures: HTMLElement[] = [];
  if (access.pages.has('alerts')) {
    figures.push(chartFigure({
      title: t('overview.chart_alerts_time'),
      type: 'bar',
      stacked: true,
      labels,
      series: LEVELS.map((level) => ({
        label: tEnum('level', level),
        color: LEVEL_COLORS[level],
        data: stats.alerts.series.map((p) => p.by_level?.[level] ?? 0),
      })),
      summary: t('overview.chart_summary_total', { total: formatNumber(stats.alerts.total) }),
    }));
  }
  figures.push(chartFigure({
    title: t('overview.chart_incidents_time'),
    type: 'line',
    labels: stats.incidents.series.map((p) => formatBucket(p.t, stats.bucket)),
    series: [{ label: t('overview.incidents'), color: '#1d3557', data: stats.incidents.series.map((p) => p.count) }],
    summary: t('overview.chart_summary_total', { total: formatNumber(stats.incidents.total) }),
  }));
  if (access.pages.has('alerts')) {
    figures.push(chartFigure({
      title: t('overview.chart_alerts_level'),
      type: 'bar',
      labels: LEVELS.map((l) => tEnum('level', l)),
      series: [{ label: t('overview.alerts'), color: '#457b9d', data: LEVELS.map((l) => stats.alerts.by_level?.[l] ?? 0) }],
      summary: LEVELS.map((l) => `${tEnum('level', l)} ${stats.alerts.by_level?.[l] ?? 0}`).join(', '),
    }));
  }
  // By organisation and by sector: alerts and incidents side by side.
  const orgIds = [...new Set([...stats.alerts.by_organization, ...stats.incidents.by_organization].map((o) => o.id))];
  const orgLabel = (id: string) => {
    const known = orgs.get(id);
    const item = stats.alerts.by_organization.find((o) => o.id === id) ?? stats.incidents.by_organization.find((o) => o.id === id);
    return known ? orgName(orgs, id) : item?.name ?? id;
  };
  const countOf = (list: { id: string; count: number }[], id: string) => list.find((o) => o.id === id)?.count ?? 0;
  const orgSeries = [
    ...(access.pages.has('alerts') ? [{ label: t('overview.alerts'), color: '#457b9d', data: orgIds.map((id) => countOf(stats.alerts.by_organization, id)) }] : []),
    { label: t('overview.incidents'), color: '#1d3557', data: orgIds.map((id) => countOf(stats.incidents.by_organization, id)) },
  ];
  figures.push(chartFigure({
    title: t('overview.chart_by_org'),
    type: 'bar',
    horizontal: true,
    labels: orgIds.map(orgLabel),
    series: orgSeries,
    summary: t('overview.chart_summary_items', { count: orgIds.length }),
  }));
  const sectorKey = (s: string | null) => s ?? '';
  const sectors = [...new Set([...stats.alerts.by_sector, ...stats.incidents.by_sector].map((s) => sectorKey(s.sector)))];
  const sectorCount = (list: { sector: string | null; count: number }[], key: string) => list.find((s) => sectorKey(s.sector) === key)?.count ?? 0;
  figures.push(chartFigure({
    title: t('overview.chart_by_sector'),
    type: 'bar',
    horizontal: true,
    labels: sectors.map((s) => (s ? tEnum('sector', s) : t('overview.no_sector'))),
    series: [
      ...(access.pages.has('alerts') ? [{ label: t('overview.alerts'), color: '#457b9d', data: sectors.map((s) => sectorCount(stats.alerts.by_sector, s)) }] : []),
      { label: t('overview.incidents'), color: '#1d3557', data: sectors.map((s) => sectorCount(stats.incidents.by_sector, s)) },
    ],
    summary: t('overview.chart_summary_items', { count: sectors.length }),
  }));
  replace(charts, h('div', { class: 'chart-grid' }, ...figures),
    h('p', { class: 'help' }, t('overview.range', { from: formatDate(stats.from), to: formatDate(stats.to) })));
}

const MAX_TECHNIQUES = 25;
const MAX_BUCKETS = 12;

async function loadHeatmap(from: Date, to: Date, dimension: string, container: HTMLElement): Promise<void> {
  let heatmap: Heatmap;
  try {
    heatmap = await get<Heatmap>('/api/v1/attack/heatmap', { dimension, since: from.toISOString(), until: to.toISOString() });
  } catch (error) {
    replace(container, notice('error', describe(error)));
    return;
  }
  if (!heatmap.cells.length) {
    replace(container, h('p', { class: 'empty' }, t('overview.heatmap_empty')));
    return;
  }
  const techniques = [...heatmap.techniques].sort((a, b) => b.count - a.count || a.id.localeCompare(b.id)).slice(0, MAX_TECHNIQUES);
  const buckets = [...heatmap.buckets]
    .sort((a, b) => (dimension === 'month' ? a.key.localeCompare(b.key) : b.count - a.count || a.label.localeCompare(b.label)))
    .slice(0, MAX_BUCKETS);
  const counts = new Map(heatmap.cells.map((c) => [`${c.technique}\u0000${c.bucket}`, c]));
  const max = Math.max(1, ...heatmap.cells.map((c) => c.count));
  const bucketLabel = (b: { key: string; label: string }) => {
    if (dimension !== 'sector') return b.label;
    return values('sector').includes(b.key) ? tEnum('sector', b.key) : tEnum('org.type', b.key);
  };
  const grid = h('table', { class: 'heatmap' },
    h('caption', null, t('overview.heatmap_caption', { techniques: techniques.length, total: heatmap.techniques.length })),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('overview.technique')),
      ...buckets.map((b) => h('th', { scope: 'col' }, bucketLabel(b))),
      h('th', { scope: 'col' }, t('overview.total')))),
    h('tbody', null, ...techniques.map((tech) => h('tr', null,
      h('th', { scope: 'row' }, h('span', { class: 'tech-id' }, tech.id), tech.name ? ` ${tech.name}` : ''),
      ...buckets.map((b) => {
        const cell = counts.get(`${tech.id}\u0000${b.key}`);
        const count = cell?.count ?? 0;
        return h('td', {
          class: `heat ${heatClass(count, max)}`,
          title: cell ? t('overview.heat_cell', { alerts: cell.alerts, incidents: cell.incidents }) : null,
        }, String(count));
      }),
      h('td', { class: 'num' }, String(tech.count))))));
  replace(container, h('div', { class: 'table-wrap' }, grid),
    h('div', { class: 'heat-legend', 'aria-hidden': 'true' }, t('overview.heat_legend_low'),
      ...[0, 1, 2, 3, 4, 5].map((n) => h('span', { class: `heat heat-${n}` }, '')), t('overview.heat_legend_high')));
}

async function loadPending(ctx: PageContext, container: HTMLElement): Promise<void> {
  const access = ctx.session.access;
  const parts: HTMLElement[] = [];
  const orgs = await orgMap();
  if (access.pages.has('requests')) {
    const body = h('div', null, loading());
    parts.push(section(t('overview.open_requests'), body));
    void (async () => {
      try {
        const [open, overdue] = await Promise.all([
          get<ListPage<MaterialsRequest>>('/api/v1/requests', { status: 'open', limit: 10 }),
          get<ListPage<MaterialsRequest>>('/api/v1/requests', { overdue: 'true', limit: 10 }),
        ]);
        const seen = new Set<string>();
        const rows = [...overdue.items, ...open.items].filter((r) => !seen.has(r.id) && seen.add(r.id));
        replace(body, table([
          { label: t('common.reference'), render: (r: MaterialsRequest) => link(`/requests/${r.id}`, r.reference) },
          { label: t('common.title'), render: (r) => r.title },
          { label: t('requests.target'), render: (r) => orgName(orgs, r.target_org_id) },
          { label: t('common.due'), render: (r) => h('span', { class: r.overdue ? 'overdue' : '' }, formatDate(r.due_at), r.overdue ? ` (${t('common.overdue')})` : '') },
          { label: t('common.status'), render: (r) => statusBadge('request.status', r.status) },
        ], rows, { empty: t('overview.none_open') }));
      } catch (error) {
        replace(body, notice('error', describe(error)));
      }
    })();
  }
  if (access.pages.has('recommendations')) {
    const body = h('div', null, loading());
    parts.push(section(t('overview.open_recommendations'), body));
    void (async () => {
      try {
        const page = await get<ListPage<Recommendation>>('/api/v1/recommendations', { limit: 50 });
        const rows = page.items.filter((r) => r.status !== 'closed' && r.status !== 'implemented')
          .sort((a, b) => Number(b.overdue) - Number(a.overdue)).slice(0, 10);
        replace(body, table([
          { label: t('common.reference'), render: (r: Recommendation) => link(`/recommendations/${r.id}`, r.reference) },
          { label: t('common.title'), render: (r) => r.title },
          { label: t('recommendations.target'), render: (r) => orgName(orgs, r.target_org_id) },
          { label: t('common.due'), render: (r) => h('span', { class: r.overdue ? 'overdue' : '' }, formatDate(r.due_at), r.overdue ? ` (${t('common.overdue')})` : '') },
          { label: t('common.status'), render: (r) => statusBadge('recommendation.status', r.status) },
        ], rows, { empty: t('overview.none_open') }));
      } catch (error) {
        replace(body, notice('error', describe(error)));
      }
    })();
  }
  replace(container, ...parts);
}
