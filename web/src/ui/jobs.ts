// Progress of long operations. A route that starts a job answers 202 {"job"}; the console polls
// GET /api/v1/jobs/{id} and draws a <progress> bar (indeterminate while the total is unknown)
// with a text that screen readers announce as it changes, until the job succeeds or fails.
import { h, replace } from '../dom';
import { api, get, describe } from '../api';
import { t, tEnum } from '../i18n';
import { formatNumber, percent } from '../format';
import type { Job } from '../types';

export const POLL_MS = 500;

export function jobProgressText(job: Job): string {
  const { done, total, unit } = job.progress;
  const unitLabel = unit ? tEnum('job.unit', unit) : '';
  const pct = percent(done, total);
  const amount = total > 0
    ? t('job.progress_of', { done: formatNumber(done), total: formatNumber(total), unit: unitLabel, percent: pct ?? 0 })
    : t('job.progress_count', { done: formatNumber(done), unit: unitLabel });
  return `${tEnum('job.kind', job.kind)}: ${tEnum('job.state', job.state)} — ${amount}${job.message ? ` (${job.message})` : ''}`;
}

export function renderJob(job: Job): HTMLElement {
  const bar = h('progress', { max: 100, 'aria-label': tEnum('job.kind', job.kind) });
  const pct = percent(job.progress.done, job.progress.total);
  if (job.state !== 'running') bar.value = 100;
  else if (pct !== null) bar.value = pct;
  // Without value the bar is indeterminate: work is going on, its size unknown.
  return h('div', { class: `job job-${job.state}`, 'data-job-state': job.state },
    bar, h('p', { class: 'job-text' }, jobProgressText(job)),
    job.state === 'failed' && job.error ? h('p', { class: 'field-error' }, job.error) : null);
}

// Starts a job with POST `path` and follows it in `container`; resolves with the finished job.
export async function runJob(container: HTMLElement, path: string, body: unknown = {}): Promise<Job | null> {
  const live = h('div', { class: 'job-live', 'aria-live': 'polite' });
  replace(container, live);
  let job: Job;
  try {
    job = (await api<{ job: Job }>('POST', path, body)).job;
  } catch (error) {
    replace(live, h('div', { class: 'notice notice-error', role: 'alert' }, describe(error)));
    return null;
  }
  return followJob(live, job);
}

export async function followJob(live: HTMLElement, job: Job): Promise<Job> {
  replace(live, renderJob(job));
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!live.isConnected) return job;  // the page was left; stop polling
    try {
      job = await get<Job>(`/api/v1/jobs/${encodeURIComponent(job.id)}`);
    } catch (error) {
      replace(live, h('div', { class: 'notice notice-error', role: 'alert' }, describe(error)));
      return job;
    }
    replace(live, renderJob(job));
  }
  return job;
}
