// Exports of the alert and incident lists as JSON Lines or CSV: POST /api/v1/exports starts a
// job (202), the dialog shows its progress, and a download link appears when the file is ready.
// The rows are what the list shows with the same filters; the server applies the same policy.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { formatBytes, formatNumber } from '../format';
import { dialog, field, select, button } from './components';
import { runJob } from './jobs';

export function exportButton(kind: 'alerts' | 'incidents', filters: () => Record<string, string>): HTMLButtonElement {
  return button(t('export.button'), () => openExport(kind, filters()), { class: 'btn btn-secondary' });
}

function openExport(kind: 'alerts' | 'incidents', filters: Record<string, string>): void {
  const format = select([['csv', 'CSV'], ['jsonl', 'JSON Lines']], 'csv');
  const progress = h('div', { class: 'export-progress' });
  const start = h('button', { type: 'submit', class: 'btn btn-primary' }, t('export.start'));
  const form = h('form', null,
    h('p', null, t(kind === 'alerts' ? 'export.lead_alerts' : 'export.lead_incidents')),
    Object.keys(filters).length
      ? h('p', { class: 'help' }, t('export.filters', { filters: Object.entries(filters).map(([k, v]) => `${k}=${v}`).join(', ') }))
      : h('p', { class: 'help' }, t('export.no_filters')),
    field(t('export.format'), format).el,
    h('div', { class: 'form-actions' }, start),
    progress);
  const d = dialog(t('export.title'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    start.disabled = true;
    const job = await runJob(progress, '/api/v1/exports', { kind, format: format.value, filters });
    start.disabled = false;
    if (job?.state === 'succeeded' && job.result) {
      const result = job.result as { download_url?: string; rows?: number; bytes?: number };
      if (result.download_url) {
        progress.appendChild(h('p', { class: 'notice notice-success', role: 'status' },
          h('a', { href: result.download_url, download: '' }, t('export.download')),
          ` — ${t('export.rows', { rows: formatNumber(result.rows ?? 0) })}, ${formatBytes(result.bytes ?? 0)}`));
      }
    }
  });
  d.open();
  replace(progress);
}
