// Standards (基準): the OSCAL catalogs of controls that organisations are audited against,
// newest first. Every member of the community reads them; the centre's administrators and
// auditors import a catalog from its JSON file, which the server keeps as it was imported (the
// same file twice is refused, naming the standard that holds it).
import { h } from '../dom';
import { t } from '../i18n';
import { api, get, describeRefusal, ApiError, type ListPage } from '../api';
import { formatDate, formatDateTime, formatNumber } from '../format';
import { navigate } from '../router';
import type { PageContext } from '../app';
import type { Standard } from '../types';
import { userMap } from '../session';
import {
  pageHeader, table, link, button, dialog, field, input, submit, formActions, busy, messageArea, userLabel, type Column,
} from '../ui/components';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const [page, users] = await Promise.all([get<ListPage<Standard>>('/api/v1/standards'), userMap()]);
  const columns: Column<Standard>[] = [
    { label: t('standards.standard'), render: (s) => link(`/standards/${s.id}`, s.title, { class: 'standard-title' }) },
    { label: t('standards.version'), render: (s) => s.version || '—' },
    { label: t('standards.controls'), class: 'num', render: (s) => formatNumber(s.controls) },
    { label: t('standards.published'), render: (s) => (s.published ? formatDate(s.published) : '—') },
    { label: t('standards.source'), render: (s) => h('code', { class: 'wrap-anywhere' }, s.source) },
    { label: t('standards.imported'), render: (s) => h('span', null, formatDateTime(s.imported_at), h('br'), userLabel(users, s.imported_by)) },
  ];
  return h('div', null,
    pageHeader(t('standards.title'),
      access.importStandard ? button(t('standards.import'), () => importDialog(), { class: 'btn btn-primary' }) : null),
    h('p', { class: 'help' }, t('standards.lead')),
    table(columns, page.items, { label: t('standards.title'), empty: t('standards.empty') }));
}

// A catalog's JSON file, sent as it is (the server reads and checks it, and names what is wrong
// with it); ?source= records the file's name.
function importDialog(): void {
  const messages = messageArea();
  const file = field(t('standards.file'), input('file', { accept: '.json,application/json' }), { required: true, help: t('standards.file_help') });
  const form = h('form', { novalidate: true }, messages.el, file.el, formActions(submit(t('standards.import_submit'))));
  const d = dialog(t('standards.import_title'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    file.setError(null);
    const chosen = (file.control as HTMLInputElement).files?.[0];
    if (!chosen) {
      file.setError(t('validation.required'));
      file.control.focus();
      return;
    }
    try {
      const standard = await busy(form, () => api<Standard>('POST', '/api/v1/standards', undefined, {
        query: { source: chosen.name },
        raw: { body: chosen, contentType: 'application/json' },
      }));
      d.close();
      navigate(`/standards/${standard.id}`);
    } catch (error) {
      messages.show('error', describeRefusal(error));
      if (error instanceof ApiError && error.status === 400) file.setError(error.message);
    }
  });
  d.open();
}
