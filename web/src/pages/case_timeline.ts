// The timeline of an investigation (タイムライン) on the case's page: what happened in time
// order — entries the members wrote, entries imported from a hunt (yagura scan, Timesketch
// JSON lines) and the case's linked alerts, incidents and evidence — with filters kept in the
// address (kind, host, technique, text), paging, CSV and JSON Lines exports with the same
// filters, writing an entry, importing a file, and the list of imports.
import { h, replace, uid } from '../dom';
import { t, tEnum } from '../i18n';
import { api, get, post, del, describe, ApiError, type ListPage } from '../api';
import { formatDateTime, formatDateTimeSeconds, formatNumber, timeZone, tlpLabel, utcToWallTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { Case, TimelineEntry, TimelineImport, User } from '../types';
import { canRunCase, canWorkOnCase } from '../access';
import { hashPrefix, LIMITS } from '../case_flow';
import { EVENT_SEARCH_LIMITS, validateSearch } from '../event_search';
import {
  TIMELINE_KINDS, WRITABLE_TIMELINE_KINDS, exportHref, filtersFromQuery, linkedEntryHref, timelineQuery, validateEntry,
  validateFilters, type TimelineEntryValues, type TimelineFilters,
} from '../timeline_filters';
import {
  section, badge, levelBadge, userLabel, button, dialog, field, select, textarea, input, submit, formActions, messageArea,
  busy, table, pagedTable, loading, notice, link, filterBar, confirmAction, type Field, type Column,
} from '../ui/components';

const PAGE = 100;

export function timelineSection({ ctx, kase, base, users, changed, hooks }: {
  ctx: PageContext; kase: Case; base: string; users: Map<string, User>;
  changed: () => void;  // after each change (the case's history shows it)
  // Filled with the section's reload, for what changes the timeline from elsewhere on the page
  // (a hunt in an item of evidence).
  hooks?: { reloadTimeline?: () => Promise<void> };
}): HTMLElement {
  const { access } = ctx.session;
  const work = canWorkOnCase(access, kase);
  const lead = canRunCase(access, kase);
  const messages = messageArea();
  const listArea = h('div', { class: 'case-timeline' }, loading());
  const importsArea = h('div', null, loading());
  let filters: TimelineFilters = filtersFromQuery(currentQuery());
  let importNames = new Map<string, string>();

  // ---- filters and exports ----
  const kindBoxes = TIMELINE_KINDS.map((kind) => {
    const id = uid('tk');
    const box = h('input', { type: 'checkbox', id, value: kind, checked: filters.kinds.includes(kind) });
    return { box, el: h('div', { class: 'field-check' }, box, h('label', { for: id }, tEnum('case.timeline_kind', kind))) };
  });
  const kinds = h('fieldset', { class: 'kind-filter' }, h('legend', null, t('timeline.kinds')), ...kindBoxes.map((b) => b.el));
  const host = field(t('timeline.host'), input('search', { value: filters.host, maxlength: 500 }));
  const technique = field(t('timeline.technique'), input('search', { value: filters.technique, maxlength: 20, spellcheck: 'false' }), { help: t('timeline.technique_help') });
  const q = field(t('timeline.text'), input('search', { value: filters.q, maxlength: 200 }));
  const csv = h('a', { class: 'btn btn-secondary', download: '' }, t('timeline.export_csv'));
  const jsonl = h('a', { class: 'btn btn-secondary', download: '' }, t('timeline.export_jsonl'));
  const syncExports = () => {
    csv.href = exportHref(kase.id, filters, 'csv');
    jsonl.href = exportHref(kase.id, filters, 'jsonl');
  };
  syncExports();
  const apply = () => {
    const next: TimelineFilters = {
      kinds: kindBoxes.filter((b) => b.box.checked).map((b) => b.box.value),
      host: host.control.value, technique: technique.control.value, q: q.control.value,
    };
    const errors = validateFilters(next);
    const byKey: Record<string, Field<HTMLInputElement>> = { host, technique, q };
    for (const [key, f] of Object.entries(byKey)) f.setError(errors[key] ? t(errors[key].key, errors[key].params) : null);
    const first = Object.keys(errors)[0];
    if (first) {
      byKey[first]?.control.focus();
      return;
    }
    filters = next;
    setQuery({ evidence: currentQuery().get('evidence'), ...timelineQuery(filters) });
    syncExports();
    void loadEntries();
  };

  // ---- entries ----
  const columns: Column<TimelineEntry>[] = [
    { label: t('timeline.at'), render: (e) => h('time', { datetime: e.at, class: 'nowrap' }, formatDateTimeSeconds(e.at)) },
    {
      label: t('timeline.kind'), render: (e) => h('span', { class: 'badges' }, badge(tEnum('case.timeline_kind', e.kind), `kind kind-${e.kind}`),
        !e.level ? null : e.kind === 'incident' ? badge(tEnum('priority', e.level), 'status') : levelBadge(e.level)),
    },
    {
      label: t('timeline.what'), render: (e) => {
        const href = e.origin === 'linked' ? linkedEntryHref(kase.id, e.id) : null;
        return h('div', { class: 'timeline-what' },
          href ? link(href, e.title, { class: 'entry-title' }) : h('strong', { class: 'entry-title' }, e.title),
          e.detail ? h('p', { class: 'help prose' }, e.detail) : null);
      },
    },
    {
      label: t('timeline.host_account'), render: (e) => h('span', null, e.host || '—',
        e.account ? [h('br'), h('span', { class: 'help' }, e.account)] : null),
    },
    { label: t('timeline.techniques'), render: (e) => (e.techniques.length ? h('span', null, ...e.techniques.map((x) => h('span', { class: 'tech-id' }, `${x} `))) : '—') },
    {
      label: t('timeline.origin'), render: (e) => h('span', null, tEnum('case.timeline_origin', e.origin),
        e.origin === 'imported' && e.import_id && importNames.has(e.import_id) ? h('span', { class: 'help' }, ` (${importNames.get(e.import_id)})`) : null,
        e.source ? [h('br'), h('span', { class: 'help wrap-anywhere' }, e.source)] : null,
        e.created_by && e.origin === 'written' ? [h('br'), h('span', { class: 'help' }, userLabel(users, e.created_by))] : null),
    },
  ];
  const loadEntries = async () => {
    replace(listArea, loading());
    const query = { ...timelineQuery(filters), limit: PAGE };
    try {
      const first = await get<ListPage<TimelineEntry>>(`${base}/timeline`, query);
      const filtered = Object.keys(timelineQuery(filters)).length > 0;
      replace(listArea,
        filtered ? h('p', { class: 'help' }, t('timeline.filtered')) : null,
        pagedTable(columns, first, async (cursor) => {
          try {
            return await get<ListPage<TimelineEntry>>(`${base}/timeline`, { ...query, cursor });
          } catch (error) {
            messages.show('error', describe(error));
            return { items: [], next_cursor: cursor };
          }
        }, { label: t('timeline.title'), empty: filtered ? t('timeline.empty_filtered') : t('timeline.empty') }));
    } catch (error) {
      replace(listArea, notice('error', describe(error)));
    }
  };

  // ---- imports ----
  const loadImports = async () => {
    let imports: TimelineImport[];
    try {
      imports = (await get<ListPage<TimelineImport>>(`${base}/timeline/imports`)).items;
    } catch (error) {
      replace(importsArea, notice('error', describe(error)));
      return;
    }
    importNames = new Map(imports.map((i) => [i.id, i.source]));
    const importColumns: Column<TimelineImport>[] = [
      { label: t('timeline.import_source'), render: (i) => h('strong', null, i.source) },
      { label: t('timeline.import_format'), render: (i) => tEnum('case.import_format', i.format) },
      { label: t('timeline.import_entries'), class: 'num', render: (i) => formatNumber(i.entries) },
      { label: t('timeline.import_span'), render: (i) => `${formatDateTime(i.first_at)} – ${formatDateTime(i.last_at)}` },
      { label: t('timeline.imported_by'), render: (i) => h('span', null, userLabel(users, i.imported_by), h('br'), h('span', { class: 'help' }, formatDateTime(i.imported_at))) },
      { label: 'SHA-256', render: (i) => h('code', { class: 'hash nowrap', title: i.sha256 }, hashPrefix(i.sha256)) },
    ];
    if (lead) {
      importColumns.push({
        label: t('common.actions'), render: (i) => button(t('timeline.remove_import'), async () => {
          if (!await confirmAction(t('timeline.remove_import'), t('timeline.remove_import_confirm', { source: i.source, entries: formatNumber(i.entries) }), t('timeline.remove_import'))) return;
          try {
            await del(`${base}/timeline/imports/${encodeURIComponent(i.id)}`);
            messages.show('success', t('timeline.import_removed', { source: i.source }));
            changed();
            await Promise.all([loadImports(), loadEntries()]);
          } catch (error) {
            messages.show('error', describe(error));
          }
        }, { class: 'btn btn-quiet btn-small', 'aria-label': t('timeline.remove_import_named', { source: i.source }) }),
      });
    }
    replace(importsArea, table(importColumns, imports, { empty: t('timeline.no_imports'), label: t('timeline.imports') }));
  };

  const reloadAll = async () => {
    await loadImports();
    await loadEntries();
  };
  if (hooks) hooks.reloadTimeline = reloadAll;

  const actions = h('div', { class: 'toolbar' },
    work ? button(t('timeline.add'), () => entryDialog(base, async () => {
      messages.show('success', t('timeline.added'));
      changed();
      await loadEntries();
    }), { class: 'btn btn-primary' }) : null,
    work && access.readRawEvents ? button(t('timeline.add_events'), () => storedEventsDialog(base, async (done) => {
      messages.show('success', t('timeline.events_copied', { entries: formatNumber(done.entries) }));
      changed();
      await reloadAll();
    }), { class: 'btn btn-secondary' }) : null,
    work ? button(t('timeline.import'), () => importDialog(base, async (done) => {
      messages.show('success', t('timeline.imported', { entries: formatNumber(done.entries), source: done.source }));
      changed();
      await reloadAll();
    }), { class: 'btn btn-secondary' }) : null,
    csv, jsonl);

  void reloadAll();
  return section(t('timeline.title'),
    h('p', { class: 'help' }, t('timeline.lead')),
    messages.el,
    actions,
    h('p', { class: 'help' }, t('timeline.export_help', { tlp: tlpLabel(kase.tlp) })),
    filterBar(apply, kinds, host.el, technique.el, q.el),
    listArea,
    h('h3', null, t('timeline.imports')),
    importsArea);
}

function entryDialog(base: string, done: () => Promise<void>): void {
  const messages = messageArea();
  const f = {
    at: field(t('timeline.at'), input('datetime-local', { step: 1, value: utcToWallTime(new Date(), timeZone()) }), { required: true, help: t('timeline.at_help', { zone: timeZone() }) }),
    kind: field(t('timeline.kind'), select(WRITABLE_TIMELINE_KINDS.map((k): [string, string] => [k, tEnum('case.timeline_kind', k)]), 'event'), { required: true, help: t('timeline.kind_help') }),
    title: field(t('timeline.entry_title'), input('text', { maxlength: LIMITS.entryTitle }), { required: true }),
    detail: field(t('timeline.detail'), textarea({ rows: 4, maxlength: LIMITS.text })),
    host: field(t('timeline.host'), input('text', { maxlength: LIMITS.entryField })),
    account: field(t('timeline.account'), input('text', { maxlength: LIMITS.entryField })),
    source: field(t('timeline.source'), input('text', { maxlength: LIMITS.entryField }), { help: t('timeline.source_help') }),
    techniques: field(t('timeline.techniques'), input('text', { spellcheck: 'false', autocomplete: 'off' }), { help: t('timeline.techniques_help') }),
  };
  const form = h('form', { novalidate: true }, messages.el,
    h('div', { class: 'two-col' },
      h('div', null, f.at.el, f.kind.el, f.title.el, f.detail.el),
      h('div', null, f.host.el, f.account.el, f.source.el, f.techniques.el)),
    formActions(submit(t('timeline.add_submit'))));
  const d = dialog(t('timeline.add'), form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (key: keyof typeof f) => (f[key].control as HTMLInputElement).value;
    const values: TimelineEntryValues = {
      at: value('at'), kind: value('kind'), title: value('title'), detail: value('detail'), host: value('host'),
      account: value('account'), source: value('source'), techniques: value('techniques'),
    };
    const { errors, body } = validateEntry(values, timeZone());
    for (const [key, item] of Object.entries(f)) item.setError(errors[key] ? t(errors[key].key, errors[key].params) : null);
    const first = Object.keys(errors)[0] as keyof typeof f | undefined;
    if (first) {
      f[first].control.focus();
      return;
    }
    try {
      await busy(form, () => post<TimelineEntry>(`${base}/timeline`, body));
      d.close();
      await done();
    } catch (error) {
      messages.show('error', describe(error));
      if (error instanceof ApiError && error.field) {
        const key = error.field.replace(/\[\d+\]$/, '') as keyof typeof f;
        f[key]?.setError(error.message);
      }
    }
  });
  d.open();
}

// The event store's events of a host (or with a text) in a window, copied as one import; the
// server refuses a window matching more than the limit rather than cutting it.
function storedEventsDialog(base: string, done: (result: TimelineImport) => Promise<void>): void {
  const tz = timeZone();
  const messages = messageArea();
  const now = new Date();
  const f = {
    host: field(t('events.host'), input('text', { maxlength: EVENT_SEARCH_LIMITS.host, spellcheck: 'false' })),
    from: field(t('events.from'), input('datetime-local', { step: 1, value: utcToWallTime(new Date(now.getTime() - 3_600_000), tz) }), { required: true, help: t('events.zone', { zone: tz }) }),
    // The minute after now: the field's minutes would otherwise leave out what came this minute.
    to: field(t('events.to'), input('datetime-local', { step: 1, value: utcToWallTime(new Date(now.getTime() + 60_000), tz) }), { required: true }),
    text: field(t('events.text'), input('text', { maxlength: EVENT_SEARCH_LIMITS.text })),
  };
  const form = h('form', { novalidate: true }, messages.el, h('p', { class: 'help' }, t('timeline.add_events_help')),
    f.host.el, f.from.el, f.to.el, f.text.el, formActions(submit(t('events.copy_submit'))));
  const d = dialog(t('timeline.add_events'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { errors, query } = validateSearch({
      host: f.host.control.value, from: f.from.control.value, to: f.to.control.value, text: f.text.control.value, org: '',
    }, tz, true);
    for (const [key, item] of Object.entries(f)) item.setError(errors[key] ? t(errors[key].key, errors[key].params) : null);
    const first = Object.keys(errors)[0] as keyof typeof f | undefined;
    if (first) {
      f[first].control.focus();
      return;
    }
    try {
      const result = await busy(form, () => post<TimelineImport>(`${base}/timeline/events`, query));
      d.close();
      await done(result);
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

// JSON lines as `yagura scan` writes them (its alerts) or any Timesketch JSONL; all or nothing,
// the server names the first line it cannot read.
function importDialog(base: string, done: (result: TimelineImport) => Promise<void>): void {
  const messages = messageArea();
  const file = field(t('timeline.import_file'), input('file', { accept: '.jsonl,.ndjson,.json,.txt,application/x-ndjson,application/json,text/plain' }), { required: true, help: t('timeline.import_file_help') });
  const source = field(t('timeline.import_source'), input('text', { maxlength: LIMITS.entryField }), { required: true, help: t('timeline.import_source_help') });
  file.control.addEventListener('change', () => {
    const chosen = (file.control as HTMLInputElement).files?.[0];
    if (chosen && !source.control.value.trim()) source.control.value = chosen.name;
  });
  const form = h('form', { novalidate: true }, messages.el, file.el, source.el, formActions(submit(t('timeline.import_submit'))));
  const d = dialog(t('timeline.import'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    file.setError(null);
    source.setError(null);
    const chosen = (file.control as HTMLInputElement).files?.[0];
    const name = source.control.value.trim();
    if (!chosen) file.setError(t('validation.required'));
    if (!name) source.setError(t('validation.required'));
    if (!chosen || !name) {
      (!chosen ? file : source).control.focus();
      return;
    }
    try {
      const result = await busy(form, () => api<TimelineImport>('POST', `${base}/timeline/imports`, undefined, {
        query: { source: name },
        raw: { body: chosen, contentType: 'application/x-ndjson' },
      }));
      d.close();
      await done(result);
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}
