// Threat intelligence (centre staff): the indicator feeds the detector loads, a search over
// their indicators, the partners' TAXII collections pulled into them (a pull runs as a job with
// a progress bar), and the centre's own TAXII collections with who may read and write them.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { get, describe, type ListPage } from '../api';
import { formatDateTime, formatNumber } from '../format';
import type { PageContext } from '../app';
import { pageHeader, section, table, loading, notice, field, input, select, filterBar, pagedTable, button, tlpBadge, orgName, badge } from '../ui/components';
import { runJob } from '../ui/jobs';
import { orgMap } from '../session';

interface Feed { name: string; format: string; indicators: number; updated_at: string | null; source?: string; loaded?: boolean; complete?: boolean }
interface Indicator { value: string; type: string; feed: string; name?: string | null; tlp?: string | null; confidence?: number | null; valid_until?: string | null; revoked?: boolean }
interface TaxiiSource { name: string; url: string; collection: string; last_pull_at: string | null; last_error: string | null; objects_pulled: number }
interface Collection { id: string; title: string; alias: string | null; max_tlp: string; owner_org_id: string; url: string; access: { org_id: string; can_read: boolean; can_write: boolean }[] }

export function render(ctx: PageContext): HTMLElement {
  const feeds = h('div', null, loading());
  const indicators = h('div', null, loading());
  const sources = h('div', null, loading());
  const collections = h('div', null, loading());
  const page = h('div', null,
    pageHeader(t('intel.title')),
    section(t('intel.feeds'), feeds),
    section(t('intel.indicators'), indicators),
    section(t('intel.taxii_sources'), sources),
    section(t('intel.collections'), collections));
  void loadFeeds(feeds, indicators);
  void loadSources(ctx, sources);
  void loadCollections(collections);
  return page;
}

async function loadFeeds(container: HTMLElement, indicatorPanel: HTMLElement): Promise<void> {
  let feeds: Feed[] = [];
  try {
    const answer = await get<{ items: Feed[]; total_indicators: number }>('/api/v1/intel/feeds');
    feeds = answer.items;
    replace(container,
      h('p', null, t('intel.total_indicators', { count: formatNumber(answer.total_indicators) })),
      table([
        { label: t('intel.feed'), render: (f: Feed) => f.name },
        { label: t('intel.format'), render: (f) => f.format },
        { label: t('intel.indicator_count'), class: 'num', render: (f) => formatNumber(f.indicators) },
        { label: t('common.updated'), render: (f) => formatDateTime(f.updated_at) },
        { label: t('intel.source'), render: (f) => f.source || '—' },
        { label: t('common.status'), render: (f) => (f.loaded === false ? badge(t('intel.not_loaded'), 'status status-overdue')
          : f.complete === false ? badge(t('intel.incomplete'), 'status status-investigating') : badge(t('intel.loaded'), 'status status-ok')) },
      ], feeds, { empty: t('intel.no_feeds'), label: t('intel.feeds') }));
  } catch (error) {
    replace(container, notice('error', describe(error)));
  }
  renderIndicatorSearch(indicatorPanel, feeds);
}

function renderIndicatorSearch(container: HTMLElement, feeds: Feed[]): void {
  const q = field(t('intel.search'), input('search', { maxlength: 200 }), { help: t('intel.search_help') });
  const type = field(t('intel.type'), input('text', { placeholder: 'ipv4, domain, sha256…', maxlength: 40 }));
  const feed = field(t('intel.feed'), select([['', t('common.any')], ...feeds.map((f): [string, string] => [f.name, f.name])], ''));
  const results = h('div');
  const search = async () => {
    const query = { q: q.control.value.trim(), type: type.control.value.trim(), feed: feed.control.value, limit: 50 };
    replace(results, loading());
    try {
      const first = await get<ListPage<Indicator>>('/api/v1/intel/indicators', query);
      replace(results, pagedTable([
        { label: t('intel.value'), render: (i: Indicator) => h('span', null, h('code', null, i.value), i.revoked ? [' ', badge(t('intel.revoked'), 'status status-closed')] : null, i.name ? h('span', { class: 'help' }, ` ${i.name}`) : null) },
        { label: t('intel.type'), render: (i) => i.type },
        { label: t('intel.feed'), render: (i) => i.feed },
        { label: 'TLP', render: (i) => (i.tlp ? tlpBadge(i.tlp) : '—') },
        { label: t('intel.confidence'), class: 'num', render: (i) => (i.confidence ?? '—').toString() },
        { label: t('intel.valid_until'), render: (i) => formatDateTime(i.valid_until) },
      ], first, (cursor) => get<ListPage<Indicator>>('/api/v1/intel/indicators', { ...query, cursor }), { empty: t('intel.no_indicators'), label: t('intel.indicators') }));
    } catch (error) {
      replace(results, notice('error', describe(error)));
    }
  };
  replace(container, filterBar(() => void search(), q.el, type.el, feed.el), results);
  void search();
}

async function loadSources(ctx: PageContext, container: HTMLElement): Promise<void> {
  try {
    const { items } = await get<{ items: TaxiiSource[] }>('/api/v1/intel/taxii-sources');
    const progress = h('div', { class: 'job-area' });
    replace(container, table([
      { label: t('intel.partner'), render: (s: TaxiiSource) => s.name },
      { label: t('intel.collection'), render: (s) => h('span', null, h('code', null, s.collection), h('br'), h('span', { class: 'help' }, s.url)) },
      { label: t('intel.last_pull'), render: (s) => formatDateTime(s.last_pull_at) },
      { label: t('intel.objects_pulled'), class: 'num', render: (s) => formatNumber(s.objects_pulled) },
      { label: t('intel.last_error'), render: (s) => (s.last_error ? h('span', { class: 'error-text' }, s.last_error) : '—') },
      ...(ctx.session.access.pullFeeds ? [{
        label: t('common.actions'),
        render: (s: TaxiiSource) => button(t('intel.pull'), async (event) => {
          const target = event.currentTarget as HTMLButtonElement;
          target.disabled = true;
          const job = await runJob(progress, `/api/v1/intel/taxii-sources/${encodeURIComponent(s.name)}/pull`);
          target.disabled = false;
          if (job?.state === 'succeeded') {
            const result = job.result as { objects?: number; indicators?: number } | null;
            progress.appendChild(notice('success', t('intel.pull_done', { objects: formatNumber(result?.objects ?? 0), indicators: formatNumber(result?.indicators ?? 0) })));
          }
        }, { class: 'btn btn-small', 'aria-label': t('intel.pull_named', { name: s.name }) }),
      }] : []),
    ], items, { empty: t('intel.no_sources'), label: t('intel.taxii_sources') }), progress);
  } catch (error) {
    replace(container, notice('error', describe(error)));
  }
}

async function loadCollections(container: HTMLElement): Promise<void> {
  try {
    const [page, orgs] = await Promise.all([get<ListPage<Collection>>('/api/v1/taxii/collections', { limit: 200 }), orgMap()]);
    replace(container, table([
      { label: t('intel.collection_title'), render: (c: Collection) => c.title },
      { label: t('intel.alias'), render: (c) => c.alias ?? '—' },
      { label: t('intel.max_tlp'), render: (c) => tlpBadge(c.max_tlp) },
      { label: t('intel.owner'), render: (c) => orgName(orgs, c.owner_org_id) },
      { label: t('intel.access'), render: (c) => c.access.length
        ? c.access.map((a) => `${orgName(orgs, a.org_id)} (${[a.can_read ? t('intel.read') : '', a.can_write ? t('intel.write') : ''].filter(Boolean).join('/')})`).join(', ')
        : '—' },
      { label: 'URL', render: (c) => h('code', null, c.url) },
    ], page.items, { empty: t('intel.no_collections'), label: t('intel.collections') }),
    h('p', { class: 'help' }, t('intel.collections_help')));
  } catch (error) {
    replace(container, notice('error', describe(error)));
  }
}
