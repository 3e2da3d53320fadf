// A new request for materials: the centre asks an organisation (art. 30 to ministries, art. 31
// to local governments, independent agencies and critical infrastructure) with a due date; a
// local government asks the centre for help (art. 32).
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { post, describe, ApiError } from '../api';
import { timeZone, wallTimeToUtc } from '../format';
import { navigate } from '../router';
import type { PageContext } from '../app';
import type { MaterialsRequest } from '../types';
import { pageHeader, field, input, textarea, select, orgSelect, orgLabel, submit, formActions, busy, messageArea, enumSelect, type Field } from '../ui/components';
import { orgMap } from '../session';

const ART30 = ['ministry'];
const ART31 = ['local_government', 'independent_agency', 'critical_infrastructure'];

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  if (!access.createRequest && !access.createInboundRequest) throw new ApiError(404, 'not_found', 'not found');
  const orgs = [...(await orgMap()).values()];
  const messages = messageArea();
  const bases = access.createRequest ? ['art30', 'art31'] : ['art32'];
  const basis = field(t('requests.legal_basis'), select(bases.map((b) => [b, tEnum('legal_basis', b)]), bases[0]), { required: true, help: t('requests.legal_basis_help') });
  const target = field(t('requests.target'), orgSelect([], ''), { required: true, help: t('requests.target_help') });
  const syncTargets = () => {
    const types = basis.control.value === 'art30' ? ART30 : ART31;
    const options = orgs.filter((o) => types.includes(o.type));
    (target.control as HTMLSelectElement).replaceChildren(h('option', { value: '' }, t('common.choose')),
      ...options.map((o) => h('option', { value: o.id }, orgLabel(o))));
  };
  if (access.createRequest) { basis.control.addEventListener('change', syncTargets); syncTargets(); } else target.el.hidden = true;
  const title = field(t('common.title'), input('text', { maxlength: 200 }), { required: true });
  const body = field(t('requests.body'), textarea({ rows: 6, maxlength: 20000 }), { required: true, help: t('requests.body_help') });
  const due = field(t('common.due'), input('datetime-local', { step: 60 }), { required: access.createRequest, help: t('requests.due_help', { zone: timeZone() }) });
  const tlp = field('TLP', enumSelect('tlp', 'amber'), { required: true });
  // RED is not offered: requests go to an organisation, not to named people.
  (tlp.control as HTMLSelectElement).querySelector('option[value="red"]')?.remove();
  const form = h('form', { novalidate: true }, messages.el, basis.el, target.el, title.el, body.el, due.el, tlp.el,
    formActions(submit(t('requests.send')), h('a', { href: '/requests', class: 'btn btn-quiet' }, t('common.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const all: Field<HTMLElement>[] = [target, title, body, due];
    all.forEach((f) => f.setError(null));
    const problems: [Field<HTMLElement>, string][] = [];
    if (access.createRequest && !target.control.value) problems.push([target, t('validation.required')]);
    if (!title.control.value.trim()) problems.push([title, t('validation.required')]);
    if (!body.control.value.trim()) problems.push([body, t('validation.required')]);
    const dueText = (due.control as HTMLInputElement).value;
    const dueAt = dueText ? wallTimeToUtc(dueText, timeZone()) : null;
    if (access.createRequest && !dueText) problems.push([due, t('validation.required')]);
    else if (dueText && !dueAt) problems.push([due, t('validation.datetime')]);
    if (problems.length) {
      problems.forEach(([f, m]) => f.setError(m));
      problems[0][0].control.focus();
      return;
    }
    const payload: Record<string, unknown> = {
      legal_basis: basis.control.value, title: title.control.value.trim(), body: body.control.value, tlp: tlp.control.value,
    };
    if (access.createRequest) payload.target_org_id = target.control.value;
    if (dueAt) payload.due_at = dueAt;
    try {
      const created = await busy(form, () => post<MaterialsRequest>('/api/v1/requests', payload));
      navigate(`/requests/${created.id}`);
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  return h('div', null, pageHeader(t('requests.new_title')), form);
}
