// Reusable pieces of the console's pages: labelled form fields with help and error text,
// tables, badges, notices, dialogs and "load more" paging. Everything is made of native
// elements (label/for, button, dialog, progress) so keyboards and screen readers get their
// behaviour for free.
import { h, uid, replace, type Child } from '../dom';
import { t, tEnum } from '../i18n';
import { tlpLabel } from '../format';
import { values, type EnumGroup } from '../enums';
import type { Organization, User } from '../types';
import { userNames } from '../user_names';

export function pageHeader(title: string, ...actions: Child[]): HTMLElement {
  return h('div', { class: 'page-header' },
    h('h1', { tabindex: '-1', id: 'page-title' }, title),
    actions.length ? h('div', { class: 'page-actions' }, ...actions) : null);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uid('s');
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title), ...children);
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

export function notice(kind: 'error' | 'info' | 'success' | 'warning', text: Child): HTMLElement {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// A region that shows the outcome of an action (errors as alerts, successes as status).
export function messageArea(): { el: HTMLElement; show(kind: 'error' | 'info' | 'success' | 'warning', text: string): void; clear(): void } {
  const el = h('div', { class: 'messages', 'aria-live': 'polite' });
  return {
    el,
    show(kind, text) { replace(el, notice(kind, text)); },
    clear() { replace(el); },
  };
}

export interface Field<T extends HTMLElement = HTMLElement> {
  el: HTMLElement;
  control: T;
  setError(message: string | null): void;
}

export function field<T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLElement>(
  label: string, control: T, options: { help?: string; required?: boolean; name?: string } = {},
): Field<T> {
  const id = control.id || uid('f');
  control.id = id;
  if (options.name) control.setAttribute('name', options.name);
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const help = options.help ? h('p', { class: 'help', id: helpId }, options.help) : null;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const describedBy = [options.help ? helpId : '', errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  if (options.required) {
    control.setAttribute('aria-required', 'true');
    if ('required' in control) (control as HTMLInputElement).required = true;
  }
  const el = h('div', { class: 'field' },
    h('label', { for: id }, label, options.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
    control, help, error);
  return {
    el,
    control,
    setError(message) {
      if (message) {
        error.textContent = message;
        error.hidden = false;
        control.setAttribute('aria-invalid', 'true');
        el.classList.add('has-error');
      } else {
        error.textContent = '';
        error.hidden = true;
        control.removeAttribute('aria-invalid');
        el.classList.remove('has-error');
      }
    },
  };
}

export function input(type: string, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type, ...attrs });
}

export function textarea(attrs: Record<string, unknown> = {}): HTMLTextAreaElement {
  return h('textarea', { rows: 4, ...attrs });
}

export function select(options: [string, string][], value = '', attrs: Record<string, unknown> = {}): HTMLSelectElement {
  const el = h('select', attrs, ...options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = value;
  return el;
}

// A select of one of the API's enumerations; `empty` adds a first "any"/"choose" option.
export function enumSelect(group: EnumGroup, value = '', empty?: string, attrs: Record<string, unknown> = {}): HTMLSelectElement {
  const options: [string, string][] = values(group).map((v) => [v, tEnum(group, v)]);
  if (group === 'tlp') options.forEach((o) => { o[1] = tlpLabel(o[0]); });
  if (empty !== undefined) options.unshift(['', empty]);
  return select(options, value, attrs);
}

export function orgSelect(orgs: Organization[], value = '', empty?: string, attrs: Record<string, unknown> = {}): HTMLSelectElement {
  const options: [string, string][] = orgs.map((o) => [o.id, orgLabel(o)]);
  if (empty !== undefined) options.unshift(['', empty]);
  return select(options, value, attrs);
}

export function orgLabel(org: Organization | undefined | null): string {
  if (!org) return '—';
  return document.documentElement.lang === 'ja' && org.name_ja ? org.name_ja : org.name;
}

export function orgName(orgs: Map<string, Organization>, id: string | null | undefined): string {
  if (!id) return '—';
  const org = orgs.get(id);
  return org ? orgLabel(org) : `${id.slice(0, 8)}…`;
}

// A user's name as text: from the users the caller may list, else from the names resolver's
// cache (asking it for the id, so the next render has it), else the short id.
export function userName(users: Map<string, User>, id: string | null | undefined): string {
  if (!id) return '—';
  if (id === 'system') return t('common.system');
  const user = users.get(id);
  if (user) return user.display_name || user.username;
  const named = userNames.cached(id);
  if (named) return named.display_name;
  if (named === undefined) void userNames.resolve([id]);
  return `${id.slice(0, 8)}…`;
}

// A user's name as an element that fills itself in once the resolver answers: every label of
// one render is asked for in one request.
export function userLabel(users: Map<string, User>, id: string | null | undefined): HTMLElement {
  const el = h('span', { class: 'user-name' }, userName(users, id));
  if (id && id !== 'system' && !users.has(id) && userNames.cached(id) === undefined) {
    el.title = id;
    void userNames.resolve([id]).then(() => {
      const named = userNames.cached(id);
      if (named) {
        el.textContent = named.display_name;
        el.title = named.organization_name;
      }
    });
  }
  return el;
}

export function button(label: Child, onClick: (event: MouseEvent) => void, attrs: Record<string, unknown> = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn', ...attrs, onclick: onClick }, label);
}

export function link(href: string, label: Child, attrs: Record<string, unknown> = {}): HTMLAnchorElement {
  return h('a', { href, ...attrs }, label);
}

export interface Column<T> {
  label: string;
  render: (row: T) => Child;
  class?: string;
}

export function table<T>(columns: Column<T>[], rows: T[], options: { caption?: string; empty?: string; label?: string } = {}): HTMLElement {
  if (!rows.length) return h('p', { class: 'empty' }, options.empty ?? t('common.empty'));
  const body = h('tbody', null, ...rows.map((row) => tableRow(columns, row)));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data', 'aria-label': options.caption ? null : options.label ?? null },
      options.caption ? h('caption', null, options.caption) : null,
      h('thead', null, h('tr', null, ...columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      body));
}

export function tableRow<T>(columns: Column<T>[], row: T): HTMLTableRowElement {
  return h('tr', null, ...columns.map((c) => h('td', { class: c.class }, c.render(row))));
}

// A list page: the first rows, then a "load more" button while next_cursor is set.
export function pagedTable<T>(columns: Column<T>[], first: { items: T[]; next_cursor: string | null },
                              loadMore: (cursor: string) => Promise<{ items: T[]; next_cursor: string | null }>,
                              options: { caption?: string; empty?: string; label?: string } = {}): HTMLElement {
  const wrap = h('div', { class: 'paged' });
  const tableEl = table(columns, first.items, options);
  wrap.appendChild(tableEl);
  let cursor = first.next_cursor;
  const status = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const more = button(t('common.load_more'), async () => {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await loadMore(cursor);
      const tbody = tableEl.querySelector('tbody');
      for (const row of page.items) tbody?.appendChild(tableRow(columns, row));
      cursor = page.next_cursor;
      status.textContent = t('common.loaded_more', { count: page.items.length });
    } finally {
      more.disabled = false;
      more.hidden = !cursor;
    }
  }, { class: 'btn btn-secondary' });
  more.hidden = !cursor;
  wrap.append(more, status);
  return wrap;
}

export function badge(text: string, cls = ''): HTMLElement {
  return h('span', { class: `badge ${cls}` }, text);
}

export function tlpBadge(tlp: string): HTMLElement {
  return badge(tlpLabel(tlp), `tlp tlp-${tlp.replace('+', '-')}`);
}

export function levelBadge(level: string): HTMLElement {
  return badge(tEnum('level', level), `level level-${level}`);
}

export function priorityBadge(priority: { level: number; name: string }): HTMLElement {
  return badge(`${priority.level} · ${tEnum('priority', priority.name)}`, `priority priority-${priority.level}`);
}

export function statusBadge(group: EnumGroup, status: string): HTMLElement {
  return badge(tEnum(group, status), `status status-${status}`);
}

export function dl(items: [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts' }, ...items.flatMap(([term, value]) => [h('dt', null, term), h('dd', null, value ?? '—')]));
}

// Multi-line text from the API, shown as text (never as HTML).
export function prose(text: string | null | undefined): HTMLElement {
  return h('div', { class: 'prose' }, text ?? '');
}

// A modal dialog (<dialog>): Escape closes it, focus moves into it and back afterwards.
export function dialog(title: string, body: Child, options: { onClose?: () => void; wide?: boolean } = {}): { el: HTMLDialogElement; open(): void; close(): void } {
  const titleId = uid('d');
  const closeButton = h('button', { type: 'button', class: 'btn-icon dialog-close', 'aria-label': t('common.close') }, '×');
  const el = h('dialog', { class: options.wide ? 'dialog wide' : 'dialog', 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId }, title), closeButton),
    h('div', { class: 'dialog-body' }, body));
  let returnFocus: Element | null = null;
  const close = () => { if (el.open) el.close(); };
  closeButton.addEventListener('click', close);
  el.addEventListener('close', () => {
    el.remove();
    options.onClose?.();
    if (returnFocus instanceof HTMLElement) returnFocus.focus();
  });
  return {
    el,
    open() {
      returnFocus = document.activeElement;
      document.body.appendChild(el);
      el.showModal();
      const first = el.querySelector<HTMLElement>('.dialog-body input, .dialog-body select, .dialog-body textarea, .dialog-body button');
      first?.focus();
    },
    close,
  };
}

export function formActions(...children: Child[]): HTMLElement {
  return h('div', { class: 'form-actions' }, ...children);
}

export function submit(label: string, attrs: Record<string, unknown> = {}): HTMLButtonElement {
  return h('button', { type: 'submit', class: 'btn btn-primary', ...attrs }, label);
}

// Disables a form's controls while `work` runs.
export async function busy<T>(form: HTMLElement, work: () => Promise<T>): Promise<T> {
  const controls = Array.from(form.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input, select, textarea'));
  const before = controls.map((c) => c.disabled);
  controls.forEach((c) => { c.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    controls.forEach((c, i) => { c.disabled = before[i]; });
    form.removeAttribute('aria-busy');
  }
}

// The actions of a page that shows one object: `run(form, work)` keeps `form` busy while
// `work` runs, then re-reads the page (`refresh`), or shows what went wrong (`describe` of the
// error) in `messages`.
export function actionRunner(refresh: () => void, messages: { show(kind: 'error', text: string): void },
  describe: (error: unknown) => string): (form: HTMLElement, work: () => Promise<unknown>) => Promise<void> {
  return async (form, work) => {
    try {
      await busy(form, work);
      refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  };
}

export function filterBar(onSubmit: () => void, ...fields: Child[]): HTMLFormElement {
  const form = h('form', { class: 'filters', role: 'search' }, ...fields,
    h('div', { class: 'filter-actions' }, submit(t('common.apply'))));
  form.addEventListener('submit', (event) => { event.preventDefault(); onSubmit(); });
  return form;
}

export function splitList(text: string): string[] {
  return text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
}

// Asks before an action that cannot be undone (revoking a credential). Resolves true when the
// user chose `action`, false when they cancelled or closed the dialog.
export function confirmAction(title: string, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    let chosen = false;
    const yes = h('button', { type: 'button', class: 'btn btn-danger' }, action);
    const no = h('button', { type: 'button', class: 'btn' }, t('common.cancel'));
    // Cancel comes first, so Enter on the opened dialog does not revoke anything.
    const d = dialog(title, h('div', null, h('p', null, text), formActions(no, yes)), { onClose: () => resolve(chosen) });
    yes.addEventListener('click', () => { chosen = true; d.close(); });
    no.addEventListener('click', () => d.close());
    d.open();
  });
}

// A secret the server shows once (a new token): read-only, selected on focus, with a copy
// button, and a warning that it cannot be shown again.
export function secretReveal(label: string, secret: string, warning: string): HTMLElement {
  const control = input('text', { value: secret, readonly: true, class: 'secret', spellcheck: 'false', autocomplete: 'off' });
  control.addEventListener('focus', () => control.select());
  const status = h('span', { class: 'help', role: 'status' });
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, t('common.copy'));
  copy.addEventListener('click', async () => {
    control.focus();
    try {
      await navigator.clipboard.writeText(secret);
      status.textContent = t('common.copied');
    } catch {
      status.textContent = t('common.copy_by_hand');
    }
  });
  const f = field(label, control, { help: warning });
  f.el.classList.add('secret-field');
  f.el.append(h('div', { class: 'secret-actions' }, copy, ' ', status));
  return f.el;
}
