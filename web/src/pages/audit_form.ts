// Opening an audit (監査): what and why, the audited organisation, the standard, the planned
// period, the marking, the controls in scope (all of the standard's, a list of ids, or what an
// OSCAL profile file selects) and the team. The centre's administrators and auditors open
// audits; the opener becomes a lead. The checks are audit_flow.ts's; what the server still
// refuses is shown next to the field it names.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, post, describe, ApiError, type ListPage } from '../api';
import { tlpLabel, timeZone } from '../format';
import { navigate, currentQuery } from '../router';
import type { PageContext } from '../app';
import type { Audit, CaseCandidate, Standard } from '../types';
import { AUDIT_DEFAULT_TLP, AUDIT_LIMITS, AUDIT_TLPS, AUDITABLE_ORG_TYPES, validateAudit, type AuditFormValues } from '../audit_flow';
import { orgMap } from '../session';
import {
  pageHeader, field, input, textarea, select, orgSelect, submit, formActions, busy, messageArea, notice, link, type Field,
} from '../ui/components';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access, me } = ctx.session;
  if (!access.openAudit) throw new ApiError(404, 'not_found', 'not found');
  const [standards, orgs, candidates] = await Promise.all([
    get<ListPage<Standard>>('/api/v1/standards').then((page) => page.items),
    orgMap(),
    // The team can be made on the audit's page as well; without the list the form offers none.
    get<ListPage<CaseCandidate>>('/api/v1/cases/candidates').then((page) => page.items).catch(() => [] as CaseCandidate[]),
  ]);
  if (!standards.length) {
    return h('div', null, pageHeader(t('audits.new_title')),
      notice('info', h('span', null, t('audits.no_standards'), ' ', link('/standards', t('audits.to_standards')))));
  }
  const messages = messageArea();
  const tz = timeZone();
  const preset = currentQuery().get('standard_id') ?? '';

  const title = field(t('common.title'), input('text', { maxlength: AUDIT_LIMITS.title, autocomplete: 'off' }), { required: true, help: t('audits.title_help') });
  const objectives = field(t('audits.objectives'), textarea({ rows: 4, maxlength: AUDIT_LIMITS.text }), { help: t('audits.objectives_help') });
  const auditees = [...orgs.values()].filter((o) => AUDITABLE_ORG_TYPES.includes(o.type));
  const auditee = field(t('audits.auditee'), orgSelect(auditees, '', t('common.choose')), { required: true, help: t('audits.auditee_help') });
  const standard = field(t('audits.standard'), select([['', t('common.choose')],
    ...standards.map((s): [string, string] => [s.id, s.version ? `${s.title} (${s.version})` : s.title])],
  standards.some((s) => s.id === preset) ? preset : ''), { required: true });
  const start = field(t('audits.planned_start'), input('date'), { help: t('audits.date_help', { zone: tz }) });
  const end = field(t('audits.planned_end'), input('date'));
  const tlp = field('TLP', select(AUDIT_TLPS.map((v): [string, string] => [v, tlpLabel(v)]), AUDIT_DEFAULT_TLP), { required: true, help: t('audits.tlp_help') });

  // ---- scope: all, a list, or a profile ----
  const scopeName = 'audit-scope';
  const radio = (value: string, text: string, checked = false) => {
    const id = `${scopeName}-${value}`;
    const box = h('input', { type: 'radio', name: scopeName, id, value, checked });
    return { box, el: h('div', { class: 'field-check' }, box, h('label', { for: id }, text)) };
  };
  const scopeAll = radio('all', t('audits.scope_all'), true);
  const scopeList = radio('list', t('audits.scope_list'));
  const scopeProfile = radio('profile', t('audits.scope_profile'));
  const controlIds = field(t('audits.control_ids'), textarea({ rows: 3, spellcheck: 'false' }), { required: true, help: t('audits.control_ids_help') });
  const profile = field(t('audits.profile_file'), input('file', { accept: '.json,application/json' }), { required: true, help: t('audits.profile_help') });
  const scopeChoice = (): AuditFormValues['scope'] => (scopeList.box.checked ? 'list' : scopeProfile.box.checked ? 'profile' : 'all');
  const showScope = () => {
    controlIds.el.hidden = scopeChoice() !== 'list';
    profile.el.hidden = scopeChoice() !== 'profile';
  };
  for (const r of [scopeAll, scopeList, scopeProfile]) r.box.addEventListener('change', showScope);
  showScope();
  const scope = h('fieldset', { class: 'audit-scope' }, h('legend', null, t('audits.scope')),
    h('p', { class: 'help' }, t('audits.scope_help')),
    scopeAll.el, scopeList.el, scopeProfile.el, controlIds.el, profile.el);

  // ---- team: each of the centre's staff on it or not, with a role ----
  const staff = candidates.filter((c) => c.user_id !== me.user.id);
  const roleOptions: [string, string][] = [['', t('audits.not_on_team')], ...['lead', 'member', 'reader'].map((r): [string, string] => [r, tEnum('audit.role', r)])];
  const memberFields = staff.map((c) => ({
    user_id: c.user_id,
    f: field(`${c.display_name || c.username} (${c.username})`, select(roleOptions, '')),
  }));
  const team = h('fieldset', { class: 'audit-team' }, h('legend', null, t('audits.team')),
    h('p', { class: 'help' }, t('audits.team_help')),
    memberFields.length ? h('div', { class: 'inline-controls' }, ...memberFields.map((m) => m.f.el)) : h('p', { class: 'empty' }, t('audits.no_candidates')));

  const fields: Record<string, Field<HTMLElement>> = {
    title, objectives, auditee_org_id: auditee, standard_id: standard, planned_start: start, planned_end: end,
    tlp, control_ids: controlIds, profile,
  };
  const form = h('form', { novalidate: true, class: 'audit-form' }, messages.el,
    h('p', { class: 'help' }, t('audits.form_lead')),
    title.el, objectives.el, auditee.el, standard.el, start.el, end.el, tlp.el, scope, team,
    formActions(submit(t('audits.open')), h('a', { href: '/audits', class: 'btn btn-quiet' }, t('common.cancel'))));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    messages.clear();
    for (const f of Object.values(fields)) f.setError(null);
    const chosen = (profile.control as HTMLInputElement).files?.[0];
    const values: AuditFormValues = {
      title: title.control.value, objectives: (objectives.control as HTMLTextAreaElement).value,
      auditee_org_id: auditee.control.value, standard_id: standard.control.value, tlp: tlp.control.value,
      planned_start: start.control.value, planned_end: end.control.value,
      scope: scopeChoice(), control_ids: (controlIds.control as HTMLTextAreaElement).value,
      profile_text: scopeChoice() === 'profile' && chosen ? await chosen.text() : null,
      members: memberFields.map((m) => ({ user_id: m.user_id, role: m.f.control.value })),
    };
    const { errors, body } = validateAudit(values, tz);
    const names = Object.keys(errors);
    if (names.length) {
      for (const [name, error] of Object.entries(errors)) fields[name]?.setError(t(error.key, error.params));
      fields[names[0]]?.control.focus();
      return;
    }
    try {
      const created = await busy(form, () => post<Audit>('/api/v1/audits', body));
      navigate(`/audits/${created.id}`);
    } catch (error) {
      messages.show('error', describe(error));
      if (error instanceof ApiError && error.field) {
        // control_ids[3] and members[0].user_id land on their list.
        const target = fields[error.field.replace(/\[.*$/, '')];
        target?.setError(error.message);
      }
    }
  });
  return h('div', null, pageHeader(t('audits.new_title')), form);
}
