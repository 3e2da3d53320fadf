// Detection rules (centre staff): the loaded rule set (generation, time, count), files that
// failed to load, and each rule with its hits over all organisations. Centre administrators
// reload the rules from disk as a job with a progress bar.
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { get, describe } from '../api';
import { formatDateTime, formatNumber } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { RuleItem, RuleList } from '../types';
import { pageHeader, section, table, dl, field, input, enumSelect, filterBar, pagedTable, button, levelBadge, badge, notice, link } from '../ui/components';
import { runJob, renderJob, followJob } from '../ui/jobs';
import type { Job } from '../types';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of ['q', 'level', 'kind']) if (query.get(key)) filters[key] = query.get(key)!;
  const first = await get<RuleList>('/api/v1/rules', { ...filters, limit: 100 });
  const q = field(t('rules.search'), input('search', { value: filters.q ?? '', maxlength: 200 }), { help: t('rules.search_help') });
  const level = field(t('alerts.level'), enumSelect('level', filters.level ?? '', t('common.any')));
  const kind = field(t('rules.kind'), enumSelect('rule.kind', filters.kind ?? '', t('common.any')));
  const apply = () => { setQuery({ q: q.control.value.trim(), level: level.control.value, kind: kind.control.value }); ctx.refresh(); };

  const progress = h('div', { class: 'job-area' });
  const reload = ctx.session.access.reloadRules ? button(t('rules.reload'), async (event) => {
    const target = event.currentTarget as HTMLButtonElement;
    target.disabled = true;
    const job = await runJob(progress, '/api/v1/rules/reload');
    target.disabled = false;
    if (job?.state === 'succeeded') {
      const result = job.result as { generation?: number; rule_count?: number; failures?: unknown[] } | null;
      progress.appendChild(h('div', null, notice('success', t('rules.reload_done', {
        generation: result?.generation ?? '—', count: formatNumber(result?.rule_count ?? 0), failures: result?.failures?.length ?? 0,
      })), button(t('rules.show_new'), () => ctx.refresh(), { class: 'btn btn-secondary' })));
    }
  }, { class: 'btn btn-primary' }) : null;

  const columns = [
    { label: t('common.title'), class: 'wide', render: (r: RuleItem) => h('span', null, r.title, h('br'), h('code', { class: 'help rule-id' }, r.id)) },
    { label: t('alerts.level'), render: (r: RuleItem) => levelBadge(r.level) },
    { label: t('rules.kind'), render: (r: RuleItem) => tEnum('rule.kind', r.kind) },
    { label: t('rules.logsource'), render: (r: RuleItem) => Object.entries(r.logsource ?? {}).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(', ') || '—' },
    { label: t('alerts.techniques'), render: (r: RuleItem) => r.techniques.join(', ') || '—' },
    { label: t('rules.hits'), class: 'num', render: (r: RuleItem) => (r.hits ? link(`/alerts?rule_id=${encodeURIComponent(r.id)}`, formatNumber(r.hits)) : '0') },
    { label: t('rules.last_hit'), render: (r: RuleItem) => formatDateTime(r.last_hit_at) },
    { label: t('rules.path'), render: (r: RuleItem) => h('code', { class: 'path', title: r.path }, r.path.split('/').slice(-2).join('/')) },
  ];
  const failures = first.failures.length
    ? table([
      { label: t('rules.file'), render: (f: { path: string; line?: number | null; message: string }) => h('code', null, f.line ? `${f.path}:${f.line}` : f.path) },
      { label: t('rules.problem'), render: (f) => f.message },
    ], first.failures, { label: t('rules.failures') })
    : h('p', { class: 'empty' }, t('rules.no_failures'));
  const summary = dl([
    [t('rules.generation'), String(first.generation)],
    [t('rules.loaded_at'), formatDateTime(first.loaded_at)],
    [t('rules.rule_count'), formatNumber(first.rule_count)],
    [t('rules.tuning'), t('rules.tuning_text', {
      left_out: formatNumber(first.tuning?.left_out ?? 0), relevelled: formatNumber(first.tuning?.relevelled ?? 0),
    })],
    [t('rules.detection'), first.detection ? badge(t('rules.detection_on'), 'status status-ok') : badge(t('rules.detection_off'), 'status status-closed')],
    // The rules' ATT&CK coverage as a Navigator layer (GET /api/v1/attack/coverage/layer).
    [t('rules.coverage'), h('a', { class: 'coverage-layer', href: '/api/v1/attack/coverage/layer', download: 'yagura-coverage-enterprise-attack-layer.json' }, t('rules.coverage_layer'))],
  ]);
  const list = h('div');
  replace(list, pagedTable(columns, first, (cursor) => get<RuleList>('/api/v1/rules', { ...filters, limit: 100, cursor }), { empty: t('rules.empty'), label: t('rules.title') }));
  const jobs = h('div');
  void loadJobs(jobs);
  const lastFailure = first.last_reload_failure
    ? notice('warning', t('rules.last_reload_failed', { time: formatDateTime(first.last_reload_failure.at), message: first.last_reload_failure.message }))
    : null;
  return h('div', null,
    pageHeader(t('rules.title'), reload),
    progress,
    lastFailure,
    section(t('rules.loaded'), summary),
    section(t('rules.failures'), failures),
    section(t('rules.list'), filterBar(apply, q.el, level.el, kind.el), list),
    section(t('rules.jobs'), jobs));
}

// Recent jobs of the caller (all of them for centre administrators); running ones are followed.
async function loadJobs(container: HTMLElement): Promise<void> {
  try {
    const { items } = await get<{ items: Job[] }>('/api/v1/jobs');
    if (!items.length) {
      replace(container, h('p', { class: 'empty' }, t('rules.no_jobs')));
      return;
    }
    replace(container, h('ul', { class: 'plain jobs' }, ...items.slice(0, 20).map((job) => {
      const live = h('div', { 'aria-live': 'polite' }, renderJob(job));
      if (job.state === 'running') void followJob(live, job);
      return h('li', null, h('p', { class: 'help' }, `${formatDateTime(job.started_at)} → ${formatDateTime(job.finished_at)}`), live);
    })));
  } catch (error) {
    replace(container, notice('error', describe(error)));
  }
}

