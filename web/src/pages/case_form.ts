// Opening an investigation: title, summary, marking, and the incidents it looks into. The
// centre's administrators and investigators open cases; the opener becomes the case's lead and
// adds the other members on the case's page.
import { h } from '../dom';
import { t } from '../i18n';
import { post, getAll, describe, ApiError } from '../api';
import { tlpLabel } from '../format';
import { navigate, currentQuery } from '../router';
import type { PageContext } from '../app';
import type { Case, IncidentSummary } from '../types';
import { CASE_TLPS, LIMITS } from '../case_flow';
import { pageHeader, field, input, textarea, select, submit, formActions, busy, messageArea, type Field } from '../ui/components';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  if (!access.openCase) throw new ApiError(404, 'not_found', 'not found');
  const messages = messageArea();
  const preset = currentQuery().get('incident_id') ?? '';
  let incidents: IncidentSummary[] = [];
  try {
    incidents = await getAll<IncidentSummary>('/api/v1/incidents', {}, 400);
  } catch {
    // Linking at opening is a convenience: incidents can be linked on the case's page too.
  }

  const title = field(t('common.title'), input('text', { maxlength: LIMITS.title, autocomplete: 'off' }), { required: true, help: t('cases.title_help') });
  const summary = field(t('cases.summary'), textarea({ rows: 5, maxlength: LIMITS.text }), { help: t('cases.summary_help') });
  const tlp = field('TLP', select(CASE_TLPS.map((v): [string, string] => [v, tlpLabel(v)]), 'red'), { required: true, help: t('cases.tlp_help') });
  let linked: Field<HTMLSelectElement> | null = null;
  if (incidents.length) {
    const choice = select(incidents.map((i): [string, string] => [i.id, `${i.reference} — ${i.title}`]), '', { multiple: true, size: Math.min(8, incidents.length) });
    for (const option of Array.from(choice.options)) option.selected = option.value === preset;
    linked = field(t('cases.incidents_to_link'), choice, { help: t('cases.incidents_to_link_help') });
  }
  const form = h('form', { novalidate: true }, messages.el,
    h('p', { class: 'help' }, t('cases.form_lead')),
    title.el, summary.el, tlp.el, linked?.el,
    formActions(submit(t('cases.open')), h('a', { href: '/cases', class: 'btn btn-quiet' }, t('common.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    title.setError(null);
    const text = title.control.value.trim();
    if (!text) {
      title.setError(t('validation.required'));
      title.control.focus();
      return;
    }
    const payload: Record<string, unknown> = { title: text, tlp: tlp.control.value };
    if (summary.control.value.trim()) payload.summary = summary.control.value;
    const ids = linked ? Array.from(linked.control.selectedOptions).map((o) => o.value) : [];
    if (ids.length) payload.incident_ids = ids;
    try {
      const created = await busy(form, () => post<Case>('/api/v1/cases', payload));
      navigate(`/cases/${created.id}`);
    } catch (error) {
      messages.show('error', describe(error));
      if (error instanceof ApiError && error.field === 'title') title.setError(error.message);
    }
  });
  return h('div', null, pageHeader(t('cases.new_title')), form);
}
