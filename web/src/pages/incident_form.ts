// The incident report form for organisations (and the centre reporting on behalf of one):
// grouped fields with help text, checked before sending (incident_validation.ts) and again by
// the server, whose field-named errors land next to the same controls. Problems are listed in
// a summary at the top whose links move the focus to each control.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { post, describe, ApiError } from '../api';
import { timeZone, utcToWallTime } from '../format';
import { navigate } from '../router';
import type { PageContext } from '../app';
import type { Incident } from '../types';
import { validateIncident, type Errors, type IncidentFormValues } from '../incident_validation';
import { pageHeader, field, input, textarea, enumSelect, orgSelect, submit, button, formActions, busy, type Field } from '../ui/components';
import { orgMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access, me } = ctx.session;
  if (!access.reportIncident) throw new ApiError(404, 'not_found', 'not found');
  const orgs = await orgMap();
  const fields: Record<string, Field<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>> = {};
  const add = <T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(name: string, label: string, control: T, options: { help?: string; required?: boolean } = {}) => {
    control.id = `inc-${name.replace(/[^a-z0-9]+/gi, '-')}`;
    const f = field(label, control, { ...options, name });
    fields[name] = f;
    return f.el;
  };

  const memberOrgs = [...orgs.values()].filter((o) => o.type !== 'centre' && o.type !== 'partner_cert');
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true, role: 'alert', 'aria-labelledby': 'inc-errors-title' });
  const now = utcToWallTime(new Date(), timeZone());

  const indicatorRows = h('div', { class: 'indicator-rows' });
  let indicatorCount = 0;
  const indicatorFields: { type: Field<HTMLSelectElement>; value: Field<HTMLInputElement>; row: HTMLElement }[] = [];
  const addIndicator = () => {
    const index = indicatorCount++;
    const type = field(t('incidents.indicator_type'), enumSelect('indicator_type', '', t('common.choose')));
    const value = field(t('incidents.indicator_value'), input('text', { maxlength: 2048 }));
    const row = h('div', { class: 'indicator-row' }, type.el, value.el);
    const entry = { type, value, row };
    row.appendChild(button(t('incidents.indicator_remove'), () => {
      row.remove();
      indicatorFields.splice(indicatorFields.indexOf(entry), 1);
    }, { class: 'btn btn-quiet', 'aria-label': t('incidents.indicator_remove_n', { n: index + 1 }) }));
    indicatorFields.push(entry);
    indicatorRows.appendChild(row);
    type.control.focus();
  };

  const form = h('form', { class: 'report-form', novalidate: true },
    summary,
    h('p', { class: 'help' }, t('incidents.form_lead', { zone: timeZone() })),
    h('fieldset', null, h('legend', null, t('incidents.section_what')),
      access.reportForOtherOrgs
        ? add('owner_org_id', t('incidents.owner_org'), orgSelect(memberOrgs, '', t('common.choose')), { help: t('incidents.owner_org_help'), required: true })
        : null,
      add('title', t('common.title'), input('text', { maxlength: 200 }), { help: t('incidents.title_help'), required: true }),
      add('description', t('incidents.description'), textarea({ rows: 6 }), { help: t('incidents.description_help'), required: true }),
      add('category', t('incidents.category'), enumSelect('incident.category', '', t('common.choose')), { help: t('incidents.category_help'), required: true }),
      add('tlp', 'TLP', enumSelect('tlp', 'amber'), { help: t('incidents.tlp_help'), required: true })),
    h('fieldset', null, h('legend', null, t('incidents.section_when')),
      add('detected_at', t('incidents.detected_at'), input('datetime-local', { value: now, step: 60 }), { help: t('incidents.detected_help', { zone: timeZone() }), required: true }),
      add('occurred_at', t('incidents.occurred_at'), input('datetime-local', { step: 60 }), { help: t('incidents.occurred_help') })),
    h('fieldset', null, h('legend', null, t('incidents.section_impact')),
      add('functional_impact', t('factor.functional_impact'), enumSelect('functional_impact', '', t('common.choose')), { help: t('incidents.functional_help'), required: true }),
      add('information_impact', t('factor.information_impact'), enumSelect('information_impact', '', t('common.choose')), { help: t('incidents.information_help'), required: true }),
      add('recoverability', t('factor.recoverability'), enumSelect('recoverability', '', t('common.choose')), { help: t('incidents.recoverability_help'), required: true }),
      add('location', t('factor.location'), enumSelect('location', '', t('common.choose')), { help: t('incidents.location_help'), required: true }),
      add('observed_activity', t('factor.observed_activity'), enumSelect('observed_activity', '', t('common.not_given')), { help: t('incidents.optional_factor_help') }),
      add('actor_characterization', t('factor.actor_characterization'), enumSelect('actor_characterization', '', t('common.not_given'))),
      add('cross_sector_dependency', t('factor.cross_sector_dependency'), enumSelect('cross_sector_dependency', '', t('common.not_given'))),
      add('potential_impact', t('factor.potential_impact'), enumSelect('potential_impact', '', t('common.not_given'))),
      add('attack_vector', t('incidents.attack_vector'), enumSelect('attack_vector', '', t('common.not_given')))),
    h('fieldset', null, h('legend', null, t('incidents.section_scope')),
      add('systems_affected', t('incidents.systems_affected'), input('text', { inputmode: 'numeric' }), { help: t('incidents.count_help') }),
      add('records_affected', t('incidents.records_affected'), input('text', { inputmode: 'numeric' })),
      add('users_affected', t('incidents.users_affected'), input('text', { inputmode: 'numeric' })),
      add('techniques', t('incidents.techniques'), input('text', { placeholder: 'T1566.001, T1078' }), { help: t('incidents.techniques_help') }),
      h('div', { class: 'field' }, h('p', { class: 'label-like' }, t('incidents.indicators')),
        h('p', { class: 'help' }, t('incidents.indicators_help')), indicatorRows,
        button(t('incidents.indicator_add'), addIndicator, { class: 'btn btn-secondary' })),
      add('mitigations', t('incidents.mitigations'), textarea({ rows: 3 }), { help: t('incidents.mitigations_help') })),
    h('fieldset', null, h('legend', null, t('incidents.section_contact')),
      add('point_of_contact.name', t('incidents.contact_name'), input('text', { value: me.user.display_name, autocomplete: 'name', maxlength: 200 }), { required: true }),
      add('point_of_contact.email', t('incidents.contact_email'), input('email', { value: me.user.email ?? '', autocomplete: 'email' }), { help: t('incidents.contact_email_help'), required: true }),
      add('point_of_contact.phone', t('incidents.contact_phone'), input('tel', { autocomplete: 'tel', maxlength: 50 }))),
    formActions(submit(t('incidents.submit')), h('a', { href: '/incidents', class: 'btn btn-quiet' }, t('common.cancel'))));

  const value = (name: string) => fields[name]?.control.value ?? '';
  const showErrors = (errors: Errors, serverMessage?: string) => {
    for (const f of Object.values(fields)) f.setError(null);
    for (const entry of indicatorFields) { entry.type.setError(null); entry.value.setError(null); }
    const items: HTMLElement[] = [];
    for (const [name, error] of Object.entries(errors)) {
      const message = t(error.key, error.params);
      let target: Field<HTMLElement> | undefined = fields[name];
      const indicator = /^indicators\[(\d+)\]\.(type|value)$/.exec(name);
      if (indicator) target = indicatorFields[Number(indicator[1])]?.[indicator[2] as 'type' | 'value'];
      target?.setError(message);
      const labelText = target?.el.querySelector('label')?.textContent?.replace(/\s*\*$/, '') ?? name;
      const control = target?.control;
      items.push(h('li', null, h('a', {
        href: control ? `#${control.id}` : '#',
        onclick: (event: Event) => { event.preventDefault(); control?.focus(); },
      }, `${labelText}: ${message}`)));
    }
    if (serverMessage && !items.length) items.push(h('li', null, serverMessage));
    replace(summary, h('h2', { id: 'inc-errors-title' }, t('validation.summary', { count: Math.max(items.length, 1) })), h('ul', null, ...items));
    summary.hidden = false;
    summary.focus();
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values: IncidentFormValues = {
      title: value('title'), description: value('description'), category: value('category'), tlp: value('tlp'),
      functional_impact: value('functional_impact'), information_impact: value('information_impact'),
      recoverability: value('recoverability'), location: value('location'),
      observed_activity: value('observed_activity'), actor_characterization: value('actor_characterization'),
      cross_sector_dependency: value('cross_sector_dependency'), potential_impact: value('potential_impact'),
      attack_vector: value('attack_vector'), detected_at: value('detected_at'), occurred_at: value('occurred_at'),
      systems_affected: value('systems_affected'), records_affected: value('records_affected'), users_affected: value('users_affected'),
      techniques: value('techniques'),
      indicators: indicatorFields.map((i) => ({ type: i.type.control.value, value: i.value.control.value })),
      mitigations: value('mitigations'), contact_name: value('point_of_contact.name'),
      contact_email: value('point_of_contact.email'), contact_phone: value('point_of_contact.phone'),
      owner_org_id: value('owner_org_id'),
    };
    if (access.reportForOtherOrgs && !values.owner_org_id) {
      showErrors({ owner_org_id: { key: 'validation.required' } });
      return;
    }
    const { errors, body } = validateIncident(values, timeZone());
    if (!body) {
      showErrors(errors);
      return;
    }
    try {
      const incident = await busy(form, () => post<Incident>('/api/v1/incidents', body));
      navigate(`/incidents/${incident.id}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && error.field) {
        showErrors({ [error.field]: { key: 'validation.server', params: { message: error.message } } });
      } else {
        showErrors({}, describe(error));
      }
    }
  });

  return h('div', null, pageHeader(t('incidents.report_title')), form);
}
