// Issuing a recommendation to a ministry (art. 27): centre administrators only.
import { h } from '../dom';
import { t } from '../i18n';
import { post, describe, ApiError } from '../api';
import { timeZone, wallTimeToUtc } from '../format';
import { navigate } from '../router';
import type { PageContext } from '../app';
import type { Recommendation } from '../types';
import { pageHeader, field, input, textarea, orgSelect, enumSelect, submit, formActions, busy, messageArea, type Field } from '../ui/components';
import { orgMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  if (!ctx.session.access.issueRecommendation) throw new ApiError(404, 'not_found', 'not found');
  const ministries = [...(await orgMap()).values()].filter((o) => o.type === 'ministry');
  const messages = messageArea();
  const target = field(t('recommendations.target'), orgSelect(ministries, '', t('common.choose')), { required: true, help: t('recommendations.target_help') });
  const title = field(t('common.title'), input('text', { maxlength: 200 }), { required: true });
  const body = field(t('recommendations.body'), textarea({ rows: 8, maxlength: 20000 }), { required: true });
  const due = field(t('common.due'), input('datetime-local', { step: 60 }), { help: t('requests.due_help', { zone: timeZone() }) });
  const tlp = field('TLP', enumSelect('tlp', 'amber'), { required: true });
  (tlp.control as HTMLSelectElement).querySelector('option[value="red"]')?.remove();
  const form = h('form', { novalidate: true }, messages.el, target.el, title.el, body.el, due.el, tlp.el,
    formActions(submit(t('recommendations.issue')), h('a', { href: '/recommendations', class: 'btn btn-quiet' }, t('common.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const problems: [Field<HTMLElement>, string][] = [];
    [target, title, body, due].forEach((f) => f.setError(null));
    if (!target.control.value) problems.push([target, t('validation.required')]);
    if (!title.control.value.trim()) problems.push([title, t('validation.required')]);
    if (!body.control.value.trim()) problems.push([body, t('validation.required')]);
    const dueText = (due.control as HTMLInputElement).value;
    const dueAt = dueText ? wallTimeToUtc(dueText, timeZone()) : null;
    if (dueText && !dueAt) problems.push([due, t('validation.datetime')]);
    if (problems.length) {
      problems.forEach(([f, m]) => f.setError(m));
      problems[0][0].control.focus();
      return;
    }
    try {
      const created = await busy(form, () => post<Recommendation>('/api/v1/recommendations', {
        target_org_id: target.control.value, title: title.control.value.trim(), body: body.control.value,
        tlp: tlp.control.value, ...(dueAt ? { due_at: dueAt } : {}),
      }));
      navigate(`/recommendations/${created.id}`);
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  return h('div', null, pageHeader(t('recommendations.new_title')), form);
}
