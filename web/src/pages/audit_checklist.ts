// An audit's control checklist: the controls in scope grouped as the standard groups them,
// enhancements indented under their control, each with its statement folded away, its result,
// the methods used and a note. The team's leads and members assess in fieldwork and reporting,
// one control at a time (each saves on its own, so a long checklist is never lost to one
// refused field); everyone else, and everyone outside those two phases, reads it.
import { h, replace, uid } from '../dom';
import { t, tEnum } from '../i18n';
import { put, describeRefusal } from '../api';
import { formatDateTime, formatNumber } from '../format';
import type { Audit, AuditControl, AuditFinding, User } from '../types';
import { AUDIT_LIMITS, controlName, controlsNeedingFindings, depthClass, groupControls } from '../audit_flow';
import { values } from '../enums';
import { badge, field, select, textarea, submit, notice, userLabel, prose } from '../ui/components';

export interface ChecklistOptions {
  base: string;
  audit: Audit;
  controls: AuditControl[];
  findings: AuditFinding[];
  users: Map<string, User>;
  editable: boolean;
  // After a saved assessment (the progress panel reloads).
  changed: () => Promise<void>;
}

// Which controls the list shows.
const VIEWS = ['all', 'not_assessed', 'not_satisfied'] as const;

export function checklistTab(options: ChecklistOptions): HTMLElement {
  const { controls, findings, editable } = options;
  if (!controls.length) return h('p', { class: 'empty' }, t('audits.no_controls'));
  const findingsOf = (id: string) => findings.filter((f) => f.control_id === id);
  const needing = controlsNeedingFindings(controls, findings);

  const items: { control: AuditControl; el: HTMLElement }[] = [];
  const groups = groupControls(controls).map((g) => h('section', { class: 'control-group' },
    h('h3', null, g.group || t('standards.no_group'), h('span', { class: 'help' }, ` (${formatNumber(g.controls.length)})`)),
    h('ol', { class: 'controls plain' }, ...g.controls.map((control) => {
      const el = controlItem(options, control, findingsOf(control.control_id));
      items.push({ control, el });
      return el;
    }))));

  // A view of the list (all, still to assess, not satisfied); the results change as people save,
  // so each control's current result is read from its item.
  const view = field(t('audits.view'), select(VIEWS.map((v): [string, string] => [v, viewLabel(v)]), 'all'));
  view.control.addEventListener('change', () => {
    for (const item of items) {
      const result = item.el.dataset.result ?? 'not_assessed';
      const v = view.control.value;
      item.el.hidden = v === 'not_assessed' ? result !== 'not_assessed'
        : v === 'not_satisfied' ? result !== 'not_satisfied' && result !== 'partially_satisfied' : false;
    }
  });

  return h('div', { class: 'audit-checklist' },
    h('p', { class: 'help' }, editable ? t('audits.checklist_help_edit') : t('audits.checklist_help_read')),
    editable && needing.length ? notice('warning', t('audits.needs_findings', { controls: needing.join(', ') })) : null,
    h('div', { class: 'inline-controls checklist-view' }, view.el),
    ...groups);
}

function viewLabel(view: typeof VIEWS[number]): string {
  if (view === 'not_assessed') return t('audits.view_not_assessed');
  if (view === 'not_satisfied') return t('audits.view_not_satisfied');
  return t('audits.view_all');
}

function resultBadge(result: string): HTMLElement {
  return badge(tEnum('audit.result', result), `status result result-${result}`);
}

function controlItem(options: ChecklistOptions, control: AuditControl, findings: AuditFinding[]): HTMLElement {
  const name = controlName(control);
  const result = h('span', { class: 'control-result' }, resultBadge(control.result));
  const assessed = h('p', { class: 'help control-assessed' }, assessedText(options.users, control));
  const item = h('li', {
    class: `audit-control control ${depthClass(control.depth)}`, 'data-control-id': control.control_id, 'data-result': control.result,
  },
  h('div', { class: 'control-head' },
    h('code', { class: 'control-id' }, name), ' ', h('strong', null, control.title || control.control_id), ' ', result,
    ...findings.map((f) => [' ', badge(f.reference, 'kind kind-finding')])),
  control.statement
    ? h('details', { class: 'statement-details' }, h('summary', null, t('audits.statement')), h('div', { class: 'prose statement' }, control.statement))
    : null);
  if (options.editable) {
    item.appendChild(assessForm(options, control, name, (saved) => {
      item.dataset.result = saved.result;
      replace(result, resultBadge(saved.result));
      replace(assessed, assessedText(options.users, saved));
    }));
    item.appendChild(assessed);
  } else {
    if (control.methods.length) {
      item.appendChild(h('p', { class: 'control-methods' }, h('strong', null, `${t('audits.methods')}: `),
        control.methods.map((m) => tEnum('audit.method', m)).join(', ')));
    }
    if (control.note) item.appendChild(prose(control.note));
    item.appendChild(assessed);
  }
  return item;
}

function assessedText(users: Map<string, User>, control: AuditControl): HTMLElement | string {
  if (!control.assessed_at) return t('audits.not_assessed_yet');
  return h('span', null, t('audits.assessed_on', { at: formatDateTime(control.assessed_at) }), ' ', userLabel(users, control.assessed_by));
}

// PUT .../controls/{control_id} with the result, the methods ticked and the note.
function assessForm(options: ChecklistOptions, control: AuditControl, name: string, saved: (control: AuditControl) => void): HTMLElement {
  const result = field(t('audits.result'), select(values('audit.result').map((v): [string, string] => [v, tEnum('audit.result', v)]), control.result));
  const boxes = values('audit.method').map((method) => {
    const id = uid('method');
    const box = h('input', { type: 'checkbox', id, value: method, checked: control.methods.includes(method) });
    return { box, el: h('span', { class: 'field-check' }, box, h('label', { for: id }, tEnum('audit.method', method))) };
  });
  const methods = h('fieldset', { class: 'control-methods-field' },
    h('legend', null, t('audits.methods_of', { control: name })), ...boxes.map((b) => b.el));
  const note = field(t('audits.assessment_note'), textarea({ rows: 2, maxlength: AUDIT_LIMITS.text }));
  note.control.value = control.note;
  const status = h('span', { class: 'save-status', role: 'status' });
  const save = submit(t('audits.save_assessment'), { class: 'btn btn-primary btn-small', 'aria-label': t('audits.save_assessment_of', { control: name }) });
  const form = h('form', { class: 'assess-form', novalidate: true, 'aria-label': t('audits.assessment_of', { control: name }) },
    h('div', { class: 'inline-controls' }, result.el, methods), note.el, h('div', { class: 'form-actions' }, save, status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    status.className = 'save-status';
    save.disabled = true;
    try {
      const updated = await put<AuditControl>(`${options.base}/controls/${encodeURIComponent(control.control_id)}`, {
        result: result.control.value,
        methods: boxes.filter((b) => b.box.checked).map((b) => b.box.value),
        note: note.control.value,
      });
      saved(updated);
      status.textContent = t('audits.assessment_saved');
      status.classList.add('saved');
      void options.changed();
    } catch (error) {
      status.textContent = describeRefusal(error);
      status.classList.add('error-text');
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
