// The list of centre staff assigned to an object (an incident, a request) with, for those who
// may assign, a remove button per assignee and a form to assign a colleague. Incidents and
// requests share it; each page passes its own words, already translated.
import { h } from '../dom';
import { post, del } from '../api';
import type { Me, User } from '../types';
import { userName, userLabel, button, field, select, submit, formActions } from './components';

export interface AssigneeWords {
  none: string;           // nobody assigned yet
  assignTo: string;       // the select's label
  assign: string;         // the submit button
  unassign: string;       // a remove button
  unassignUser: (name: string) => string;  // its accessible label
}

// `base` is the object's API path; `run` performs an action and refreshes the page (or shows
// the error).
export function assigneesPanel(options: {
  base: string;
  assignees: string[];
  users: Map<string, User>;
  me: Me;
  canAssign: boolean;
  words: AssigneeWords;
  run: (form: HTMLElement, work: () => Promise<unknown>) => void;
  messages: HTMLElement;
}): HTMLElement[] {
  const { base, assignees, users, me, canAssign, words, run, messages } = options;
  const list = assignees.length
    ? h('ul', { class: 'plain' }, ...assignees.map((uid) => h('li', null, userLabel(users, uid),
      canAssign ? button(words.unassign, () => run(messages, () => del(`${base}/assignees/${encodeURIComponent(uid)}`)),
        { class: 'btn btn-quiet btn-small', 'aria-label': words.unassignUser(userName(users, uid)) }) : null)))
    : h('p', { class: 'empty' }, words.none);
  const parts: HTMLElement[] = [list];
  if (canAssign) {
    const centreStaff = [...users.values()].filter((u) => u.org_id === me.user.org_id && !u.disabled && !assignees.includes(u.id));
    if (centreStaff.length) {
      const who = field(words.assignTo, select(centreStaff.map((u) => [u.id, `${u.display_name || u.username} (${u.username})`]), centreStaff[0].id));
      const form = h('form', { class: 'inline-form', novalidate: true }, who.el, formActions(submit(words.assign)));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        run(form, () => post(`${base}/assignees`, { user_id: who.control.value }));
      });
      parts.push(form);
    }
  }
  return parts;
}
