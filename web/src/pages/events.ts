// Raw events (受信イベント): what the organisations' sensors sent, from the event store, for
// investigations: filters kept in the address (host, window, text, organisation), times shown
// and typed in the user's zone, each event unfolded to its payload, and "Copy to a case" for
// the window found (the copy becomes one import of the case's timeline). The centre's duty
// officers, analysts and investigators search every organisation's events, an organisation's
// administrators and reporters their own; each page read is in the audit log.
import { h } from '../dom';
import { t } from '../i18n';
import { get, post, describe, ApiError, type ListPage } from '../api';
import { formatDateTimeSeconds, formatNumber, timeZone } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { CaseSummary, StoredEvent, TimelineImport } from '../types';
import { orgMap } from '../session';
import { EVENT_SEARCH_LIMITS, eventLine, searchFromQuery, validateSearch, type EventSearchValues } from '../event_search';
import {
  pageHeader, field, input, select, filterBar, pagedTable, button, dialog, formActions, submit, messageArea, busy, link,
  notice, orgName, tlpBadge, type Column, type Field,
} from '../ui/components';

const PAGE = 100;

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const tz = timeZone();
  const values = searchFromQuery(currentQuery(), tz);
  const { query } = validateSearch(values, tz);
  const orgs = await orgMap();
  const messages = messageArea();

  const host = field(t('events.host'), input('search', { value: values.host, maxlength: EVENT_SEARCH_LIMITS.host, spellcheck: 'false' }));
  const from = field(t('events.from'), input('datetime-local', { value: values.from, step: 1 }), { help: t('events.zone', { zone: tz }) });
  const to = field(t('events.to'), input('datetime-local', { value: values.to, step: 1 }));
  const text = field(t('events.text'), input('search', { value: values.text, maxlength: EVENT_SEARCH_LIMITS.text }));
  const org = access.centre
    ? field(t('common.organization'), select([['', t('common.any')],
      ...[...orgs.values()].filter((o) => o.type !== 'centre' && o.type !== 'partner_cert').map((o): [string, string] => [o.id, o.name])], values.org))
    : null;
  const fields: Record<string, Field<HTMLElement>> = { host, from, to, text };
  const read = (): EventSearchValues => ({
    host: host.control.value, from: from.control.value, to: to.control.value, text: text.control.value,
    org: org ? org.control.value : '',
  });
  const apply = () => {
    const checked = validateSearch(read(), tz);
    for (const [key, f] of Object.entries(fields)) f.setError(checked.errors[key] ? t(checked.errors[key].key, checked.errors[key].params) : null);
    const first = Object.keys(checked.errors)[0];
    if (first) {
      (fields[first]?.control as HTMLElement | undefined)?.focus();
      return;
    }
    setQuery(checked.query);
    ctx.refresh();
  };

  const columns: Column<StoredEvent>[] = [
    { label: t('events.time'), render: (e) => h('time', { datetime: e.time, class: 'nowrap' }, formatDateTimeSeconds(e.time)) },
    { label: t('events.host'), render: (e) => e.host ?? '—' },
    ...(access.centre ? [{ label: t('common.organization'), render: (e: StoredEvent) => orgName(orgs, e.org_id) }] : []),
    {
      label: t('events.source'), render: (e) => h('span', null, e.sensor_id,
        e.logsource ? [h('br'), h('span', { class: 'help' }, e.logsource)] : null),
    },
    {
      label: t('events.event'), render: (e) => h('details', { class: 'stored-event' },
        h('summary', null, h('code', { class: 'wrap-anywhere' }, eventLine(e.payload))),
        h('pre', { class: 'json', tabindex: '0' }, e.event ? JSON.stringify(e.event, null, 2) : e.payload),
        h('p', { class: 'help' }, t('events.received', { at: formatDateTimeSeconds(e.received_at), transport: e.transport, seq: String(e.seq) }))),
    },
  ];

  let body: HTMLElement;
  try {
    const first = await get<ListPage<StoredEvent>>('/api/v1/events', { ...query, limit: PAGE });
    body = pagedTable(columns, first, async (cursor) => {
      try {
        return await get<ListPage<StoredEvent>>('/api/v1/events', { ...query, limit: PAGE, cursor });
      } catch (error) {
        messages.show('error', describe(error));
        return { items: [], next_cursor: cursor };
      }
    }, { label: t('events.title'), empty: Object.keys(query).length ? t('events.empty_filtered') : t('events.empty') });
  } catch (error) {
    body = notice('error', describe(error));
  }

  return h('div', null,
    pageHeader(t('events.title'),
      access.centre ? button(t('events.copy'), () => copyDialog(read(), tz), { class: 'btn btn-secondary' }) : null),
    h('p', { class: 'help' }, t('events.lead')),
    messages.el,
    filterBar(apply, host.el, from.el, to.el, text.el, org ? org.el : null),
    h('p', { class: 'help' }, tlpBadge('amber'), ' ', t('events.audited')),
    body);
}

// The window searched, into one of the user's open cases.
function copyDialog(values: EventSearchValues, tz: string): void {
  const messages = messageArea();
  const caseSelect = select([['', t('events.choose_case')]], '');
  const kase = field(t('events.copy_case'), caseSelect, { required: true });
  const limit = field(t('events.copy_limit'), input('number', { min: 1, max: EVENT_SEARCH_LIMITS.copy, value: EVENT_SEARCH_LIMITS.copyDefault }), { help: t('events.copy_limit_help') });
  const summary = h('p', { class: 'help' }, t('events.copy_what', {
    host: values.host.trim() || t('common.any'), text: values.text.trim() || '—',
  }));
  const form = h('form', { novalidate: true }, messages.el, summary, kase.el, limit.el, formActions(submit(t('events.copy_submit'))));
  const d = dialog(t('events.copy_title'), form);
  void (async () => {
    try {
      const cases = (await get<ListPage<CaseSummary>>('/api/v1/cases', { limit: 200 })).items
        .filter((c) => c.status !== 'closed' && (c.my_role === 'lead' || c.my_role === 'member'));
      if (!cases.length) messages.show('info', t('events.no_cases'));
      for (const c of cases) caseSelect.appendChild(h('option', { value: c.id }, `${c.reference} ${c.title}`));
    } catch (error) {
      messages.show('error', describe(error));
    }
  })();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const checked = validateSearch(values, tz, true);
    if (checked.errors.from || checked.errors.to) {
      messages.show('error', t('events.copy_needs_window'));
      return;
    }
    kase.setError(caseSelect.value ? null : t('validation.required'));
    if (!caseSelect.value) {
      caseSelect.focus();
      return;
    }
    const count = Number(limit.control.value || EVENT_SEARCH_LIMITS.copyDefault);
    try {
      const done = await busy(form, () => post<TimelineImport>(`/api/v1/cases/${encodeURIComponent(caseSelect.value)}/timeline/events`,
        { ...checked.query, limit: count }));
      messages.show('success', t('events.copied', { entries: formatNumber(done.entries) }));
      form.replaceChildren(messages.el, h('p', null, link(`/cases/${caseSelect.value}`, t('events.open_case'))));
    } catch (error) {
      messages.show('error', describe(error));
      if (error instanceof ApiError && error.field === 'limit') limit.setError(error.message);
    }
  });
  d.open();
}
