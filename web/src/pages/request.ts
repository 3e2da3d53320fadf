// One request for materials with its responses and their attached files. The addressed
// organisation answers (with files); the requester closes an answered request or withdraws an
// open one; the centre's administrators and analysts assign colleagues to it.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { api, get, post, patch, describe } from '../api';
import { formatDateTime, formatBytes } from '../format';
import type { PageContext } from '../app';
import type { MaterialsRequest } from '../types';
import { canAnswerRequest, isRequester } from '../access';
import { pageHeader, section, dl, statusBadge, tlpBadge, orgName, userLabel, link, button, messageArea, prose, field, textarea, input, submit, formActions, busy, badge, actionRunner } from '../ui/components';
import { orgMap, userMap } from '../session';
import { assigneesPanel } from '../ui/assignees';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const id = ctx.params.id;
  const base = `/api/v1/requests/${encodeURIComponent(id)}`;
  const [request, orgs, users] = await Promise.all([get<MaterialsRequest>(base), orgMap(), userMap()]);
  const { access, me } = ctx.session;
  const messages = messageArea();

  const actions: HTMLElement[] = [];
  if (isRequester(access, request)) {
    const change = (status: string, label: string) => button(label, async () => {
      try {
        await patch(base, { status });
        ctx.refresh();
      } catch (error) {
        messages.show('error', describe(error));
      }
    });
    if (request.status === 'answered') actions.push(change('closed', t('requests.close')));
    if (request.status === 'open') actions.push(change('withdrawn', t('requests.withdraw')));
  }

  const run = actionRunner(ctx.refresh, messages, describe);
  // The centre's side of the request: who works on it. The requesting organisation and the
  // addressed one see the names too, as they do on an incident.
  const assignees = assigneesPanel({
    base, assignees: request.assignees, users, me, canAssign: access.assignRequests, messages: messages.el,
    run: (form, work) => void run(form, work),
    words: {
      none: t('requests.no_assignees'), assignTo: t('requests.assign_to'), assign: t('requests.assign'),
      unassign: t('requests.unassign'), unassignUser: (name) => t('requests.unassign_user', { name }),
    },
  });

  let answer: HTMLElement | null = null;
  if (canAnswerRequest(access, me, request) && (request.status === 'open' || request.status === 'answered')) {
    const body = field(t('requests.response'), textarea({ rows: 5, maxlength: 20000 }), { required: true });
    const file = field(t('requests.attachment'), input('file'), { help: t('requests.attachment_help') });
    const form = h('form', { novalidate: true }, body.el, file.el, formActions(submit(t('requests.answer'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      body.setError(null);
      if (!body.control.value.trim()) {
        body.setError(t('validation.required'));
        body.control.focus();
        return;
      }
      try {
        await busy(form, async () => {
          const response = await post<{ id: string }>(`${base}/responses`, { body: body.control.value });
          const chosen = (file.control as HTMLInputElement).files?.[0];
          if (chosen) {
            await api('POST', `${base}/responses/${response.id}/attachments`, undefined, {
              query: { filename: chosen.name },
              raw: { body: chosen, contentType: chosen.type || 'application/octet-stream' },
            });
          }
        });
        ctx.refresh();
      } catch (error) {
        messages.show('error', describe(error));
      }
    });
    answer = section(t('requests.answer_title'), form);
  }

  const responses = request.responses ?? [];
  return h('div', null,
    pageHeader(`${request.reference} ${request.title}`),
    h('p', { class: 'badges' }, statusBadge('request.status', request.status), ' ', tlpBadge(request.tlp),
      request.overdue ? [' ', badge(t('common.overdue'), 'status status-overdue')] : null),
    messages.el,
    actions.length ? h('div', { class: 'toolbar' }, ...actions) : null,
    section(t('requests.body'), prose(request.body)),
    section(t('requests.details'), dl([
      [t('requests.legal_basis'), tEnum('legal_basis', request.legal_basis)],
      [t('requests.direction'), tEnum('request.direction', request.direction)],
      [t('requests.requester'), orgName(orgs, request.requester_org_id)],
      [t('requests.target'), orgName(orgs, request.target_org_id)],
      [t('common.due'), formatDateTime(request.due_at)],
      [t('common.created'), formatDateTime(request.created_at)],
      [t('requests.answered_at'), formatDateTime(request.answered_at)],
    ])),
    section(t('requests.assignees'), h('p', { class: 'help' }, t('requests.assignees_help')), ...assignees),
    section(t('requests.responses'), responses.length
      ? h('ol', { class: 'comments' }, ...responses.map((r) => h('li', { class: 'comment' },
        h('p', { class: 'comment-meta' }, h('strong', null, userLabel(users, r.author_id)), ` (${orgName(orgs, r.org_id)}) · `, formatDateTime(r.created_at)),
        prose(r.body),
        r.attachments.length ? h('ul', { class: 'plain' }, ...r.attachments.map((a) => h('li', null,
          h('a', { href: `${base}/responses/${r.id}/attachments/${a.id}`, download: a.filename }, a.filename),
          ` (${formatBytes(a.size)}) `, h('code', { class: 'hash' }, a.sha256)))) : null)))
      : h('p', { class: 'empty' }, t('requests.no_responses'))),
    answer,
    h('p', null, link('/requests', t('requests.back'))));
}
