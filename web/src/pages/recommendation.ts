// One recommendation: its text, the agency's response (written here by its org_admin) and the
// centre's follow-up (status and notes, centre administrators).
import { h } from '../dom';
import { t } from '../i18n';
import { get, post, patch, describe } from '../api';
import { formatDateTime } from '../format';
import type { PageContext } from '../app';
import type { Recommendation } from '../types';
import { canRespondToRecommendation } from '../access';
import { pageHeader, section, dl, statusBadge, tlpBadge, orgName, userLabel, link, messageArea, prose, field, textarea, enumSelect, submit, formActions, busy, badge } from '../ui/components';
import { orgMap, userMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const base = `/api/v1/recommendations/${encodeURIComponent(ctx.params.id)}`;
  const [rec, orgs, users] = await Promise.all([get<Recommendation>(base), orgMap(), userMap()]);
  const { access, me } = ctx.session;
  const messages = messageArea();

  let respond: HTMLElement | null = null;
  if (canRespondToRecommendation(access, me, rec.target_org_id) && rec.status !== 'closed') {
    const text = field(t('recommendations.response'), textarea({ rows: 5, maxlength: 20000 }), { required: true, help: t('recommendations.response_help') });
    if (rec.response) (text.control as HTMLTextAreaElement).value = rec.response;
    const form = h('form', { novalidate: true }, text.el, formActions(submit(t('recommendations.respond'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!text.control.value.trim()) { text.setError(t('validation.required')); text.control.focus(); return; }
      try {
        await busy(form, () => post(`${base}/response`, { response: text.control.value }));
        ctx.refresh();
      } catch (error) {
        messages.show('error', describe(error));
      }
    });
    respond = section(t('recommendations.respond_title'), form);
  }

  let followUp: HTMLElement | null = null;
  if (access.updateRecommendation) {
    const status = field(t('common.status'), enumSelect('recommendation.status', rec.status));
    const notes = field(t('recommendations.follow_up_notes'), textarea({ rows: 3, maxlength: 20000 }));
    (notes.control as HTMLTextAreaElement).value = rec.follow_up_notes ?? '';
    const form = h('form', { novalidate: true }, status.el, notes.el, formActions(submit(t('common.save'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await busy(form, () => patch(base, { status: status.control.value, follow_up_notes: notes.control.value }));
        ctx.refresh();
      } catch (error) {
        messages.show('error', describe(error));
      }
    });
    followUp = section(t('recommendations.follow_up'), form);
  }

  return h('div', null,
    pageHeader(`${rec.reference} ${rec.title}`),
    h('p', { class: 'badges' }, statusBadge('recommendation.status', rec.status), ' ', tlpBadge(rec.tlp),
      rec.overdue ? [' ', badge(t('common.overdue'), 'status status-overdue')] : null),
    messages.el,
    section(t('recommendations.body'), prose(rec.body)),
    section(t('recommendations.details'), dl([
      [t('recommendations.target'), orgName(orgs, rec.target_org_id)],
      [t('common.due'), formatDateTime(rec.due_at)],
      [t('common.created'), formatDateTime(rec.created_at)],
      [t('recommendations.response'), rec.response ? prose(rec.response) : '—'],
      [t('recommendations.responded'), rec.responded_at ? [`${formatDateTime(rec.responded_at)} — `, userLabel(users, rec.responded_by)] : '—'],
      [t('recommendations.follow_up_notes'), rec.follow_up_notes ? prose(rec.follow_up_notes) : '—'],
    ])),
    respond, followUp,
    h('p', null, link('/recommendations', t('recommendations.back'))));
}
