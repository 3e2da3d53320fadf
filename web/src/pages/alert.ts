// One alert: what fired, on which event, and its triage — acknowledge, assign, close with a
// resolution (a false positive needs a reason, so the rule can be tuned), reopen, promote to a
// new incident, or attach to an existing one. Actions are offered only when the policy allows
// them (access.canTriageAlert) and when the alert's state allows them (docs/serve.md).
import { h, type Child } from '../dom';
import { t, tEnum } from '../i18n';
import { get, post, describe, getAll } from '../api';
import { formatDateTime, formatNumber } from '../format';
import { navigate } from '../router';
import type { PageContext } from '../app';
import { aroundHref } from '../event_search';
import type { Alert, Incident, IncidentSummary } from '../types';
import { canTriageAlert } from '../access';
import {
  pageHeader, section, dl, levelBadge, statusBadge, orgName, userLabel, link, button, dialog, field,
  enumSelect, textarea, input, select, submit, formActions, messageArea, busy, tlpBadge,
} from '../ui/components';
import { orgMap, userMap } from '../session';
import { alertHost, alertLocations, matchedValues } from '../alert_details';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const id = ctx.params.id;
  const [alert, orgs, users] = await Promise.all([
    get<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}`), orgMap(), userMap()]);
  const { access, me } = ctx.session;
  const messages = messageArea();
  const triage = canTriageAlert(access, alert.org_id);
  const open = alert.status === 'new' || alert.status === 'acknowledged';

  const act = (label: string, work: () => Promise<unknown>, attrs: Record<string, unknown> = {}) =>
    button(label, async (event) => {
      const target = event.currentTarget as HTMLButtonElement;
      target.disabled = true;
      try {
        await work();
        ctx.refresh();
      } catch (error) {
        messages.show('error', describe(error));
        target.disabled = false;
      }
    }, attrs);

  const base = `/api/v1/alerts/${encodeURIComponent(alert.id)}`;
  const actions: HTMLElement[] = [];
  if (triage) {
    if (alert.status === 'new') actions.push(act(t('alerts.acknowledge'), () => post(`${base}/acknowledge`), { class: 'btn btn-primary' }));
    if (open && alert.assignee_id !== me.user.id) actions.push(act(t('alerts.assign_me'), () => post(`${base}/assign`, { assignee_id: me.user.id })));
    if (open && alert.assignee_id) actions.push(act(t('alerts.unassign'), () => post(`${base}/assign`, { assignee_id: null })));
    if (open) actions.push(button(t('alerts.close'), () => closeDialog(ctx, alert), { class: 'btn' }));
    if (alert.status === 'closed') actions.push(act(t('alerts.reopen'), () => post(`${base}/reopen`)));
    if (open) actions.push(button(t('alerts.promote'), () => promoteDialog(alert), { class: 'btn' }));
    if (open) actions.push(button(t('alerts.attach'), () => attachDialog(ctx, alert), { class: 'btn' }));
  }

  const event = (alert.details as { event?: unknown } | null | undefined)?.event;
  const matched = matchedValues(alert.details);
  const host = alertHost(alert.details);
  const locations = alertLocations(alert.details);
  return h('div', null,
    pageHeader(alert.rule.title || t('alerts.alert')),
    messages.el,
    actions.length ? h('div', { class: 'toolbar', role: 'group', 'aria-label': t('alerts.actions') }, ...actions) : null,
    section(t('alerts.summary'), dl([
      [t('alerts.level'), levelBadge(alert.rule.level)],
      [t('common.status'), h('span', null, statusBadge('alert.status', alert.status),
        alert.resolution ? ` ${tEnum('alert.resolution', alert.resolution)}` : '')],
      [t('alerts.reason'), alert.reason ?? '—'],
      [t('alerts.kind'), tEnum('alert.kind', alert.kind)],
      [t('common.organization'), orgName(orgs, alert.org_id)],
      [t('alerts.host'), host ? h('span', null, host, ...(() => {
        const around = ctx.session.access.readRawEvents ? aroundHref(host, alert.event_time) : null;
        return around ? [' ', link(around, t('events.around'), { class: 'events-around' })] : [];
      })()) : '—'],
      [t('alerts.event_time'), formatDateTime(alert.event_time)],
      ...(alert.occurrences > 1 ? [
        [t('alerts.occurrences'), h('span', null, formatNumber(alert.occurrences), ' ', h('span', { class: 'help' }, t('alerts.occurrences_help')))],
        [t('alerts.last_event_time'), formatDateTime(alert.last_event_time)],
      ] as [string, Child][] : []),
      [t('alerts.detected_at'), formatDateTime(alert.detected_at)],
      [t('alerts.logsource'), alert.logsource || '—'],
      [t('alerts.rule_id'), h('code', null, alert.rule.id)],
      [t('alerts.techniques'), techniqueList(alert)],
      [t('alerts.group'), alert.group && Object.keys(alert.group).length ? Object.entries(alert.group).map(([k, v]) => `${k}=${v}`).join(', ') : '—'],
      [t('alerts.assignee'), userLabel(users, alert.assignee_id)],
      [t('alerts.incident'), alert.incident_id ? link(`/incidents/${alert.incident_id}`, t('alerts.open_incident')) : '—'],
      [t('alerts.campaign'), alert.campaign_id ? h('code', null, alert.campaign_id) : '—'],
      ['TLP', tlpBadge('amber')],
    ])),
    event !== undefined ? section(t('alerts.event'), h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(event, null, 2))) : null,
    matched.length ? section(t('alerts.matched'), dl(matched.map(({ field, value }) =>
      [field, value === null ? '—' : h('code', { class: 'matched-value' }, value)] as [string, Child]))) : null,
    locations.length ? section(t('alerts.geo'), dl(locations.map(({ field, address, text }) =>
      [field, h('span', null, h('code', null, address), text ? ` ${text}` : '')] as [string, Child]))) : null,
    h('p', null, link('/alerts', t('alerts.back'))));
}

function techniqueList(alert: Alert): HTMLElement | string {
  const list = alert.techniques_resolved ?? alert.techniques.map((id) => ({ id, known: false, name: null }));
  if (!list.length) return '—';
  return h('ul', { class: 'plain' }, ...list.map((tech) => h('li', null, h('span', { class: 'tech-id' }, tech.id), tech.name ? ` ${tech.name}` : '')));
}

function closeDialog(ctx: PageContext, alert: Alert): void {
  const resolution = field(t('alerts.resolution'), enumSelect('alert.resolution', 'true_positive'), { required: true });
  const reason = field(t('alerts.reason'), textarea({ maxlength: 2000 }), { help: t('alerts.reason_help') });
  const messages = messageArea();
  const form = h('form', { novalidate: true }, messages.el, resolution.el, reason.el, formActions(submit(t('alerts.close'))));
  const d = dialog(t('alerts.close_title'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    reason.setError(null);
    if (resolution.control.value === 'false_positive' && !reason.control.value.trim()) {
      reason.setError(t('alerts.reason_required'));
      reason.control.focus();
      return;
    }
    try {
      await busy(form, () => post(`/api/v1/alerts/${alert.id}/close`, {
        resolution: resolution.control.value,
        ...(reason.control.value.trim() ? { reason: reason.control.value.trim() } : {}),
      }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

function promoteDialog(alert: Alert): void {
  const title = field(t('common.title'), input('text', { value: alert.rule.title, maxlength: 200 }), { required: true });
  const category = field(t('incidents.category'), enumSelect('incident.category', '', t('alerts.category_guess')), { help: t('alerts.category_help') });
  const tlp = field('TLP', enumSelect('tlp', 'amber'));
  const messages = messageArea();
  const form = h('form', { novalidate: true }, messages.el, h('p', null, t('alerts.promote_lead')), title.el, category.el, tlp.el, formActions(submit(t('alerts.promote'))));
  const d = dialog(t('alerts.promote_title'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!title.control.value.trim()) {
      title.setError(t('validation.required'));
      title.control.focus();
      return;
    }
    try {
      const incident = await busy(form, () => post<Incident>(`/api/v1/alerts/${alert.id}/promote`, {
        title: title.control.value.trim(),
        tlp: tlp.control.value,
        ...(category.control.value ? { category: category.control.value } : {}),
      }));
      d.close();
      navigate(`/incidents/${incident.id}`);
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

function attachDialog(ctx: PageContext, alert: Alert): void {
  const messages = messageArea();
  const choice = select([['', t('common.loading')]], '');
  const chooser = field(t('alerts.attach_incident'), choice, { required: true, help: t('alerts.attach_help') });
  const form = h('form', { novalidate: true }, messages.el, chooser.el, formActions(submit(t('alerts.attach'))));
  const d = dialog(t('alerts.attach_title'), form);
  d.open();
  void (async () => {
    try {
      const incidents = await getAll<IncidentSummary>('/api/v1/incidents', ctx.session.access.centre ? {} : { owner_org_id: alert.org_id }, 400);
      const open = incidents.filter((i) => i.status !== 'closed');
      choice.replaceChildren(h('option', { value: '' }, t('common.choose')),
        ...open.map((i) => h('option', { value: i.id }, `${i.reference} — ${i.title}`)));
    } catch (error) {
      messages.show('error', describe(error));
    }
  })();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!choice.value) {
      chooser.setError(t('validation.required'));
      choice.focus();
      return;
    }
    try {
      await busy(form, () => post(`/api/v1/alerts/${alert.id}/attach`, { incident_id: choice.value }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
}

