// Writing an advisory: text, severity, TLP, and its target — one organisation, a critical
// infrastructure sector, or every member — plus references, CVEs and ATT&CK techniques.
import { h } from '../dom';
import { t } from '../i18n';
import { post, describe, ApiError } from '../api';
import { navigate } from '../router';
import type { PageContext } from '../app';
import type { Advisory } from '../types';
import { pageHeader, field, input, textarea, enumSelect, orgSelect, submit, formActions, busy, messageArea, splitList, type Field } from '../ui/components';
import { orgMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  if (!ctx.session.access.issueAdvisory) throw new ApiError(404, 'not_found', 'not found');
  const orgs = [...(await orgMap()).values()].filter((o) => o.type !== 'centre');
  const messages = messageArea();
  const title = field(t('common.title'), input('text', { maxlength: 200 }), { required: true, name: 'title' });
  const body = field(t('advisories.body'), textarea({ rows: 8, maxlength: 20000 }), { required: true, name: 'body', help: t('advisories.body_help') });
  const severity = field(t('advisories.severity'), enumSelect('advisory.severity', 'medium'), { required: true, name: 'severity' });
  const tlp = field('TLP', enumSelect('tlp', 'amber'), { required: true, name: 'tlp', help: t('advisories.tlp_help') });
  const kind = field(t('advisories.target_kind'), enumSelect('advisory.target', 'organization'), { required: true, name: 'target.kind' });
  const org = field(t('common.organization'), orgSelect(orgs, '', t('common.choose')), { required: true, name: 'target.org_id' });
  const sector = field(t('advisories.sector'), enumSelect('sector', '', t('common.choose')), { required: true, name: 'target.sector' });
  const references = field(t('advisories.references'), textarea({ rows: 2 }), { help: t('advisories.references_help'), name: 'references' });
  const cves = field(t('advisories.cves'), input('text', { placeholder: 'CVE-2024-3400' }), { help: t('advisories.list_help'), name: 'cves' });
  const ttps = field(t('advisories.ttps'), input('text', { placeholder: 'T1190, T1059.001' }), { help: t('advisories.list_help'), name: 'ttps' });
  const syncTarget = () => {
    org.el.hidden = kind.control.value !== 'organization';
    sector.el.hidden = kind.control.value !== 'sector';
  };
  kind.control.addEventListener('change', syncTarget);
  syncTarget();
  const fields: Record<string, Field<HTMLElement>> = { title, body, severity, tlp, 'target.kind': kind, 'target.org_id': org, 'target.sector': sector, references, cves, ttps };
  const form = h('form', { novalidate: true }, messages.el, title.el, body.el, severity.el, tlp.el,
    h('fieldset', null, h('legend', null, t('advisories.target')), kind.el, org.el, sector.el),
    references.el, cves.el, ttps.el, formActions(submit(t('advisories.issue')), h('a', { href: '/advisories', class: 'btn btn-quiet' }, t('common.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(fields).forEach((f) => f.setError(null));
    messages.clear();
    let first: Field<HTMLElement> | null = null;
    const need = (f: Field<HTMLElement>, ok: boolean) => {
      if (!ok) { f.setError(t('validation.required')); first ??= f; }
    };
    need(title, Boolean(title.control.value.trim()));
    need(body, Boolean(body.control.value.trim()));
    if (kind.control.value === 'organization') need(org, Boolean(org.control.value));
    if (kind.control.value === 'sector') need(sector, Boolean(sector.control.value));
    if (first) { (first as Field<HTMLElement>).control.focus(); return; }
    const target: Record<string, string> = { kind: kind.control.value };
    if (kind.control.value === 'organization') target.org_id = org.control.value;
    if (kind.control.value === 'sector') target.sector = sector.control.value;
    const payload: Record<string, unknown> = {
      title: title.control.value.trim(), body: body.control.value, severity: severity.control.value,
      tlp: tlp.control.value, target,
    };
    const refs = splitList(references.control.value);
    if (refs.length) payload.references = refs;
    const cveList = splitList(cves.control.value);
    if (cveList.length) payload.cves = cveList;
    const ttpList = splitList(ttps.control.value);
    if (ttpList.length) payload.ttps = ttpList;
    try {
      const advisory = await busy(form, () => post<Advisory>('/api/v1/advisories', payload));
      navigate(`/advisories/${advisory.id}`);
    } catch (error) {
      messages.show('error', describe(error));
      if (error instanceof ApiError && error.field) {
        const key = error.field.replace(/\[\d+\]$/, '');
        const f = fields[key];
        if (f) { f.setError(error.message); f.control.focus(); }
      }
    }
  });
  return h('div', null, pageHeader(t('advisories.new_title')), form);
}
