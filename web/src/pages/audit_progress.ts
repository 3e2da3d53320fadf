// An audit's progress: how many controls in scope are assessed and with which result, as a
// stacked bar and as counts, and where its findings and recommendations stand. The bar's parts
// are sized through the CSSOM (the CSP forbids style attributes) and hidden from screen readers,
// which read the same numbers as text.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { formatNumber } from '../format';
import type { AuditProgress } from '../types';
import { progressSegments } from '../audit_flow';
import { dl } from '../ui/components';

export function progressBar(progress: AuditProgress, compact = false): HTMLElement {
  const bar = h('span', { class: 'audit-bar', 'aria-hidden': 'true' });
  for (const segment of progressSegments(progress)) {
    if (segment.count <= 0) continue;
    const part = h('span', { class: `audit-bar-part result-${segment.result}`, title: `${tEnum('audit.result', segment.result)}: ${segment.count}` });
    part.style.flexGrow = String(segment.count);
    bar.appendChild(part);
  }
  const text = t('audits.assessed_of', { assessed: formatNumber(progress.assessed), controls: formatNumber(progress.controls) });
  return h('span', { class: compact ? 'audit-progress compact' : 'audit-progress' }, bar, h('span', { class: 'audit-progress-text' }, text));
}

export function progressDetails(progress: AuditProgress): HTMLElement {
  const counts = progressSegments(progress);
  return h('div', { class: 'audit-progress-details' },
    progressBar(progress),
    h('ul', { class: 'audit-legend plain' }, ...counts.map((c) => h('li', null,
      h('span', { class: `swatch result-${c.result}`, 'aria-hidden': 'true' }), ' ',
      `${tEnum('audit.result', c.result)}: `, h('strong', null, formatNumber(c.count))))),
    dl([
      [t('audits.findings'), formatNumber(progress.findings)],
      [t('audits.recommendations'), formatNumber(progress.recommendations)],
      [t('audits.recommendations_open'), formatNumber(progress.recommendations_open)],
      [t('audits.recommendations_overdue'), progress.recommendations_overdue > 0
        ? h('strong', { class: 'overdue' }, formatNumber(progress.recommendations_overdue))
        : formatNumber(progress.recommendations_overdue)],
    ]));
}
