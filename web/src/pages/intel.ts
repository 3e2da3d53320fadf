// Threat intelligence (centre staff): the indicator feeds the detector loads, a search over
// their indicators, the partners' TAXII collections pulled into them (a pull runs as a job with
// a progress bar), and the centre's own TAXII collections with who may read and write them.
// Centre administrators create collections and grant organisations access; the duty roles
// publish indicators and sanitised incident summaries to them (docs/taxii.md).
import { h, replace } from '../dom';
import { t } from '../i18n';
import { get, post, describe, type ListPage } from '../api';
import { formatDateTime, formatNumber } from '../format';
import type { PageContext } from '../app';
import { pageHeader, section, table, loading, notice, field, input, select, textarea, filterBar, pagedTable, button, tlpBadge, orgName, orgSelect, badge, dialog, messageArea, formActions, submit, busy } from '../ui/components';
import { tlpLabel } from '../format';
import type { Organization } from '../types';
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
  void loadCollections(ctx, collections);
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

// The levels a collection may carry and objects may be published at: AMBER+STRICT and RED never
// leave their audience (the server answers 403).
const SHARING_LEVELS = ['clear', 'green', 'amber'];
const OBSERVABLE_TYPES = ['ipv4', 'ipv6', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256', 'sha512'];

async function loadCollections(ctx: PageContext, container: HTMLElement): Promise<void> {
  const { access } = ctx.session;
  const reload = () => { replace(container, loading()); void loadCollections(ctx, container); };
  try {
    const [page, orgs] = await Promise.all([get<ListPage<Collection>>('/api/v1/taxii/collections', { limit: 200 }), orgMap()]);
    const actions = (c: Collection): HTMLElement => h('div', { class: 'row-actions' },
      access.manageCollections ? button(t('intel.access_button'), () => accessDialog(c, orgs, reload), { class: 'btn btn-small', 'aria-label': t('intel.access_named', { name: c.title }) }) : null,
      access.publishIntel ? [' ', button(t('intel.publish'), () => publishDialog(c), { class: 'btn btn-small', 'aria-label': t('intel.publish_named', { name: c.title }) })] : null);
    replace(container,
      access.manageCollections ? h('div', { class: 'section-actions' }, button(t('intel.new_collection'), () => collectionDialog(reload), { class: 'btn btn-primary' })) : null,
      table([
        { label: t('intel.collection_title'), render: (c: Collection) => c.title },
        { label: t('intel.alias'), render: (c) => c.alias ?? '—' },
        { label: t('intel.max_tlp'), render: (c) => tlpBadge(c.max_tlp) },
        { label: t('intel.owner'), render: (c) => orgName(orgs, c.owner_org_id) },
        { label: t('intel.access'), render: (c) => c.access.length
          ? c.access.map((a) => `${orgName(orgs, a.org_id)} (${[a.can_read ? t('intel.read') : '', a.can_write ? t('intel.write') : ''].filter(Boolean).join('/')})`).join(', ')
          : '—' },
        { label: 'URL', render: (c) => h('code', { class: 'wrap-anywhere' }, c.url) },
        ...(access.manageCollections || access.publishIntel ? [{ label: t('common.actions'), render: actions }] : []),
      ], page.items, { empty: t('intel.no_collections'), label: t('intel.collections') }),
      h('p', { class: 'help' }, t('intel.collections_help')));
  } catch (error) {
    replace(container, notice('error', describe(error)));
  }
}

function levelSelect(value: string): HTMLSelectElement {
  return select(SHARING_LEVELS.map((level): [string, string] => [level, tlpLabel(level)]), value);
}

function collectionDialog(done: () => void): void {
  const messages = messageArea();
  const title = field(t('intel.collection_title'), input('text', { maxlength: 200, autocomplete: 'off' }), { required: true });
  const alias = field(t('intel.alias'), input('text', { maxlength: 63, pattern: '[a-z0-9-]+', autocomplete: 'off' }), { help: t('intel.alias_help') });
  const description = field(t('intel.description'), textarea({ rows: 3, maxlength: 2000 }));
  const level = field(t('intel.max_tlp'), levelSelect('green'), { help: t('intel.max_tlp_help') });
  const form = h('form', { novalidate: true }, messages.el, title.el, alias.el, description.el, level.el, formActions(submit(t('intel.create_collection'))));
  const d = dialog(t('intel.new_collection'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    [title, alias].forEach((f) => f.setError(null));
    messages.clear();
    if (!title.control.value.trim()) { title.setError(t('validation.required')); title.control.focus(); return; }
    if (alias.control.value && !/^[a-z0-9-]{1,63}$/.test(alias.control.value)) { alias.setError(t('intel.alias_help')); alias.control.focus(); return; }
    const body: Record<string, unknown> = { title: title.control.value.trim(), max_tlp: level.control.value };
    if (alias.control.value) body.alias = alias.control.value;
    if (description.control.value.trim()) body.description = description.control.value.trim();
    try {
      await busy(form, () => post('/api/v1/taxii/collections', body));
      d.close();
      done();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

function accessDialog(collection: Collection, orgs: Map<string, Organization>, done: () => void): void {
  const messages = messageArea();
  const granted = new Map(collection.access.map((a) => [a.org_id, a]));
  const candidates = [...orgs.values()].filter((o) => o.type !== 'centre');
  const org = field(t('common.organization'), orgSelect(candidates, '', t('common.choose')), { required: true });
  const read = h('input', { type: 'checkbox', id: 'access-read' });
  const write = h('input', { type: 'checkbox', id: 'access-write' });
  const sync = () => {
    const current = granted.get(org.control.value);
    read.checked = current?.can_read ?? false;
    write.checked = current?.can_write ?? false;
  };
  org.control.addEventListener('change', sync);
  const form = h('form', { novalidate: true }, messages.el,
    h('p', { class: 'help' }, t('intel.access_help')),
    org.el,
    h('div', { class: 'field field-check' }, read, h('label', { for: 'access-read' }, t('intel.can_read'))),
    h('div', { class: 'field field-check' }, write, h('label', { for: 'access-write' }, t('intel.can_write'))),
    formActions(submit(t('common.save'))));
  const d = dialog(t('intel.access_title', { name: collection.title }), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    org.setError(null);
    messages.clear();
    if (!org.control.value) { org.setError(t('validation.required')); org.control.focus(); return; }
    try {
      await busy(form, () => post(`/api/v1/taxii/collections/${encodeURIComponent(collection.id)}/access`, {
        org_id: org.control.value, can_read: read.checked, can_write: write.checked,
      }));
      d.close();
      done();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

function publishDialog(collection: Collection): void {
  const messages = messageArea();
  const kind = field(t('intel.publish_kind'), select([['indicator', t('intel.kind.indicator')], ['incident_summary', t('intel.kind.incident_summary')]], 'indicator'));
  const type = field(t('intel.type'), select(OBSERVABLE_TYPES.map((o): [string, string] => [o, o]), 'ipv4'), { required: true });
  const value = field(t('intel.value'), input('text', { maxlength: 2048, autocomplete: 'off', spellcheck: 'false' }), { required: true });
  const name = field(t('intel.indicator_name'), input('text', { maxlength: 200 }));
  const incident = field(t('intel.incident'), select([['', t('common.loading')]], ''), { required: true, help: t('intel.incident_summary_help') });
  let incidentsLoaded = false;
  const loadIncidents = async () => {
    if (incidentsLoaded) return;
    incidentsLoaded = true;
    try {
      const recent = await get<ListPage<{ id: string; reference: string; title: string }>>('/api/v1/incidents', { limit: 100 });
      replace(incident.control, h('option', { value: '' }, t('common.choose')),
        ...recent.items.map((i) => h('option', { value: i.id }, `${i.reference} — ${i.title}`)));
    } catch (error) {
      incidentsLoaded = false;
      messages.show('error', describe(error));
    }
  };
  // Offer only levels the collection carries: a higher one is refused (400).
  const allowed = SHARING_LEVELS.slice(0, SHARING_LEVELS.indexOf(collection.max_tlp) + 1);
  const tlp = field('TLP', select(allowed.map((level): [string, string] => [level, tlpLabel(level)]), allowed.includes('green') ? 'green' : allowed[0]), { help: t('intel.publish_tlp_help') });
  const indicatorFields = h('div', null, type.el, value.el, name.el);
  const incidentFields = h('div', { hidden: true }, incident.el);
  const outcome = h('div');
  kind.control.addEventListener('change', () => {
    indicatorFields.hidden = kind.control.value !== 'indicator';
    incidentFields.hidden = kind.control.value !== 'incident_summary';
    if (!incidentFields.hidden) void loadIncidents();
  });
  const form = h('form', { novalidate: true }, messages.el, kind.el, indicatorFields, incidentFields, tlp.el, formActions(submit(t('intel.publish'))));
  const d = dialog(t('intel.publish_title', { name: collection.title }), h('div', null, outcome, form), { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    [value, incident].forEach((f) => f.setError(null));
    messages.clear();
    replace(outcome);
    const body: Record<string, unknown> = { kind: kind.control.value, tlp: tlp.control.value };
    if (kind.control.value === 'indicator') {
      if (!value.control.value.trim()) { value.setError(t('validation.required')); value.control.focus(); return; }
      body.type = type.control.value;
      body.value = value.control.value.trim();
      if (name.control.value.trim()) body.name = name.control.value.trim();
    } else {
      if (!incident.control.value) { incident.setError(t('validation.required')); incident.control.focus(); return; }
      body.incident_id = incident.control.value;
    }
    try {
      const result = await busy(form, () => post<{ primary_id: string; objects: unknown[] }>(
        `/api/v1/taxii/collections/${encodeURIComponent(collection.id)}/publish`, body));
      replace(outcome, notice('success', h('span', null, t('intel.published', { count: result.objects.length }), ' ', h('code', null, result.primary_id))));
      value.control.value = '';
      name.control.value = '';
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}
