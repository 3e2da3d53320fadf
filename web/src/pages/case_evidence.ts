// The evidence of an investigation (証拠品) on the case's page: the items with their status and
// holder, registering a new one, and for the item shown: its registration, its file (upload;
// download with a stated purpose, which the server records in the chain of custody), its chain
// of custody with the hash of each event, recording a custody event, and the integrity check.
// The section reloads itself after each action, keeping the item shown (also kept in the
// address as ?evidence=).
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { api, get, post, describe, ApiError, type ListPage } from '../api';
import { formatBytes, formatDateTime, formatDateTimeSeconds, formatNumber, timeZone, utcToWallTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { Case, CustodyEvent, Evidence, EvidenceIntegrity, Organization, User } from '../types';
import { canWorkOnCase } from '../access';
import { runJob } from '../ui/jobs';
import {
  custodyActionsFor, custodyNeeds, custodyRows, hashPrefix, integrityLines, validateCustody, validateEvidence,
  LIMITS, type CustodyFormValues, type EvidenceFormValues,
} from '../case_flow';
import type { Errors } from '../incident_validation';
import {
  section, dl, statusBadge, badge, userLabel, button, dialog, field, select, enumSelect, textarea, input, submit,
  formActions, messageArea, busy, table, prose, loading, notice, orgName, orgSelect, type Field, type Column,
} from '../ui/components';

interface Options {
  ctx: PageContext;
  kase: Case;
  base: string;
  users: Map<string, User>;
  orgs: Map<string, Organization>;
  // After a hunt added the file's alerts to the timeline.
  timelineChanged?: () => void;
  // Called after each change (the case's history shows it).
  changed: () => void;
}

export function evidenceSection({ ctx, kase, base, users, orgs, changed, timelineChanged }: Options): HTMLElement {
  const work = canWorkOnCase(ctx.session.access, kase);
  const listArea = h('div', null, loading());
  const itemArea = h('div', { class: 'evidence-item' });
  let items: Evidence[] = [];
  let selected: string | null = currentQuery().get('evidence');
  // What the last action in the item's panel did, shown once after the panel is drawn again.
  let flash: { kind: 'success' | 'error'; text: string } | null = null;

  const keepInAddress = (id: string | null) => {
    setQuery({ ...Object.fromEntries(currentQuery()), evidence: id });
  };

  const reload = async (focusItem = false) => {
    try {
      items = (await get<ListPage<Evidence>>(`${base}/evidence`)).items;
    } catch (error) {
      replace(listArea, notice('error', describe(error)));
      return;
    }
    drawList();
    await drawItem(focusItem);
  };

  const show = (id: string | null) => {
    const closing = selected;
    selected = id;
    keepInAddress(id);
    drawList();
    void drawItem(true);
    // Closing the panel returns the focus to the item's button in the list.
    if (!id && closing) {
      Array.from(listArea.querySelectorAll<HTMLButtonElement>('button[data-evidence]')).find((b) => b.dataset.evidence === closing)?.focus();
    }
  };

  const drawList = () => {
    const columns: Column<Evidence>[] = [
      { label: t('common.reference'), render: (e) => h('span', { class: 'tech-id nowrap' }, e.reference) },
      { label: t('evidence.label'), render: (e) => h('span', { class: 'evidence-label' }, e.label) },
      { label: t('evidence.kind'), render: (e) => tEnum('case.evidence_kind', e.kind) },
      { label: t('common.status'), render: (e) => statusBadge('case.evidence_status', e.status) },
      { label: t('evidence.holder'), render: (e) => e.holder },
      { label: t('evidence.file'), render: (e) => (e.has_content ? e.filename ?? '✓' : '—') },
      { label: t('evidence.events'), class: 'num', render: (e) => formatNumber(e.custody_events) },
      { label: t('evidence.acquired_at'), render: (e) => formatDateTime(e.acquired_at) },
      {
        label: t('common.actions'), render: (e) => button(t('evidence.show'), () => show(e.id), {
          class: 'btn btn-small', 'aria-label': t('evidence.show_named', { reference: e.reference }), 'aria-pressed': String(selected === e.id),
          'data-evidence': e.id,
        }),
      },
    ];
    replace(listArea, table(columns, items, { empty: t('evidence.empty'), label: t('evidence.title') }));
  };

  const drawItem = async (focus: boolean) => {
    const item = items.find((e) => e.id === selected);
    if (!item) {
      replace(itemArea);
      return;
    }
    const itemBase = `${base}/evidence/${encodeURIComponent(item.id)}`;
    replace(itemArea, loading());
    let chain: CustodyEvent[];
    try {
      chain = (await get<ListPage<CustodyEvent>>(`${itemBase}/custody`)).items;
    } catch (error) {
      replace(itemArea, notice('error', describe(error)));
      return;
    }
    if (selected !== item.id) return;  // another item was chosen meanwhile
    const panel = itemPanel(item, itemBase, chain);
    replace(itemArea, panel);
    if (focus) panel.querySelector<HTMLElement>('h3')?.focus();
  };

  const itemPanel = (item: Evidence, itemBase: string, chain: CustodyEvent[]): HTMLElement => {
    const panelMessages = messageArea();
    if (flash) {
      panelMessages.show(flash.kind, flash.text);
      flash = null;
    }
    const ended = item.status === 'released' || item.status === 'destroyed';
    const after = async (text: string) => {
      flash = { kind: 'success', text };
      changed();
      await reload(true);
    };

    // ---- the registration ----
    const facts = dl([
      [t('evidence.kind'), tEnum('case.evidence_kind', item.kind)],
      [t('common.status'), statusBadge('case.evidence_status', item.status)],
      [t('evidence.holder'), item.holder],
      [t('evidence.location'), item.location ?? '—'],
      [t('evidence.description'), item.description ? prose(item.description) : '—'],
      [t('evidence.source_org'), item.source_org_id ? orgName(orgs, item.source_org_id) : '—'],
      [t('evidence.source_host'), item.source_host ?? '—'],
      [t('evidence.acquired_at'), formatDateTimeSeconds(item.acquired_at)],
      [t('evidence.acquired_by'), item.acquired_by],
      [t('evidence.method'), item.acquisition_method ?? '—'],
      ['SHA-256', item.sha256 ? h('code', { class: 'hash' }, item.sha256) : '—'],
      ['SHA-1', item.sha1 ? h('code', { class: 'hash' }, item.sha1) : '—'],
      ['MD5', item.md5 ? h('code', { class: 'hash' }, item.md5) : '—'],
      [t('evidence.size'), item.size === null ? '—' : `${formatNumber(item.size)} B (${formatBytes(item.size)})`],
      [t('evidence.seal'), item.seal ?? '—'],
      [t('evidence.registered'), h('span', null, formatDateTime(item.created_at), ' — ', userLabel(users, item.created_by))],
    ]);

    // ---- the file ----
    let file: HTMLElement;
    if (item.has_content) {
      // A hunt in the file with the centre's rules, as `yagura scan` does; its alerts join the
      // timeline. It runs as a job, followed here.
      let hunt: HTMLElement | null = null;
      if (work && !ended) {
        const level = field(t('evidence.hunt_min_level'), enumSelect('level', '', t('evidence.hunt_all_levels')));
        const progress = h('div', { class: 'evidence-hunt-progress' });
        const start = button(t('evidence.hunt'), async () => {
          const minLevel = (level.control as HTMLSelectElement).value;
          start.disabled = true;
          const job = await runJob(progress, `${itemBase}/hunt`, minLevel ? { min_level: minLevel } : {});
          start.disabled = false;
          if (job?.state !== 'succeeded' || !job.result) return;
          const result = job.result as unknown as { alerts: number; entries: number; without_time: number };
          panelMessages.show('success', t('evidence.hunted', {
            alerts: formatNumber(result.alerts), entries: formatNumber(result.entries),
          }) + (result.without_time ? ` ${t('evidence.hunted_without_time', { count: formatNumber(result.without_time) })}` : ''));
          changed();
          timelineChanged?.();
        }, { class: 'btn btn-secondary evidence-hunt' });
        hunt = h('div', { class: 'evidence-hunt' }, h('h4', null, t('evidence.hunt_title')),
          h('p', { class: 'help' }, t('evidence.hunt_help')), h('div', { class: 'inline-form' }, level.el, start), progress);
      }
      file = h('div', { class: 'evidence-file' },
        h('p', null, t('evidence.file_stored', { filename: item.filename ?? item.reference, type: item.content_type ?? '—' })),
        button(t('evidence.download'), () => downloadDialog(item, itemBase, () => { changed(); return reload(false); }), { class: 'btn btn-secondary' }),
        h('p', { class: 'help' }, t('evidence.download_help')), hunt);
    } else if (work && !ended) {
      const chosen = field(t('evidence.file'), input('file'), { help: t('evidence.upload_help') });
      const form = h('form', { class: 'inline-form evidence-upload', novalidate: true }, chosen.el, formActions(submit(t('evidence.upload'))));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        chosen.setError(null);
        const blob = (chosen.control as HTMLInputElement).files?.[0];
        if (!blob) {
          chosen.setError(t('validation.required'));
          chosen.control.focus();
          return;
        }
        try {
          const stored = await busy(form, () => api<Evidence>('PUT', `${itemBase}/content`, undefined, {
            query: { filename: blob.name },
            raw: { body: blob, contentType: blob.type || 'application/octet-stream' },
          }));
          await after(t('evidence.uploaded', { filename: stored.filename ?? blob.name, sha256: stored.sha256 ?? '—' }));
        } catch (error) {
          panelMessages.show('error', describe(error));
        }
      });
      file = form;
    } else {
      file = h('p', { class: 'empty' }, t('evidence.no_file'));
    }

    // ---- integrity ----
    const result = h('div', { class: 'integrity-result', 'aria-live': 'polite' });
    const check = button(t('evidence.check_integrity'), async () => {
      check.disabled = true;
      replace(result, loading());
      try {
        const answer = await get<EvidenceIntegrity>(`${itemBase}/integrity`);
        replace(result, integrityNotice(answer));
      } catch (error) {
        replace(result, notice('error', describe(error)));
      } finally {
        check.disabled = false;
      }
    }, { class: 'btn btn-secondary' });

    // ---- the chain of custody ----
    const rows = custodyRows(chain);
    const chainTable = table([
      { label: '#', class: 'num', render: (r) => String(r.event.seq) },
      {
        label: t('evidence.action'), render: (r) => h('span', null, tEnum('case.custody_action', r.event.action),
          r.event.outcome ? [' ', badge(tEnum('case.custody_outcome', r.event.outcome), `status outcome-${r.event.outcome}`)] : null),
      },
      { label: t('evidence.at'), render: (r) => h('time', { datetime: r.event.at }, formatDateTimeSeconds(r.event.at)) },
      { label: t('evidence.holder'), render: (r) => (r.handover ? `${r.event.holder_from} → ${r.event.holder_to}` : r.event.holder_to) },
      { label: t('evidence.location'), render: (r) => r.event.location ?? '—' },
      { label: t('evidence.purpose'), render: (r) => (r.event.purpose ? h('span', { class: 'prose' }, r.event.purpose) : '—') },
      {
        label: t('evidence.observed'), render: (r) => h('span', null,
          r.event.seal ? h('span', null, t('evidence.seal_value', { seal: r.event.seal })) : null,
          r.event.seal && r.event.sha256_observed ? h('br') : null,
          r.event.sha256_observed ? h('code', { class: 'hash nowrap', title: r.event.sha256_observed }, `SHA-256 ${hashPrefix(r.event.sha256_observed)}`) : null,
          !r.event.seal && !r.event.sha256_observed ? '—' : null),
      },
      { label: t('evidence.recorded_by'), render: (r) => userLabel(users, r.event.recorded_by) },
      {
        label: t('evidence.hash'), render: (r) => h('span', null,
          h('code', { class: 'hash nowrap', title: r.event.hash }, hashPrefix(r.event.hash)), h('br'),
          r.linked
            ? h('span', { class: 'chain-ok', title: t('evidence.chain_linked_help') }, `✓ ${t('evidence.chain_linked')}`)
            : h('span', { class: 'chain-bad', title: t('evidence.chain_unlinked_help') }, `✗ ${t('evidence.chain_unlinked')}`)),
      },
    ], rows, { caption: t('evidence.chain_caption', { reference: item.reference }), empty: t('common.empty') });

    const record = work && !ended ? custodyForm(item, itemBase, chain, panelMessages, after) : null;

    const close = button(t('common.close'), () => show(null), { class: 'btn btn-quiet btn-small', 'aria-label': t('evidence.hide_named', { reference: item.reference }) });
    return h('div', { class: 'panel evidence-panel' },
      h('div', { class: 'page-header' }, h('h3', { tabindex: '-1' }, `${item.reference} ${item.label}`), close),
      panelMessages.el,
      h('div', { class: 'two-col' },
        h('div', null, h('h4', null, t('evidence.registration')), facts),
        h('div', null,
          h('h4', null, t('evidence.file')), file,
          h('h4', null, t('evidence.integrity')), h('p', { class: 'help' }, t('evidence.integrity_help')), check, result)),
      h('h4', null, t('evidence.chain')),
      h('p', { class: 'help' }, t('evidence.chain_help')),
      chainTable,
      record);
  };

  const register = work
    ? button(t('evidence.register'), () => registerDialog(ctx, base, orgs, (created) => {
      selected = created.id;
      keepInAddress(created.id);
      flash = { kind: 'success', text: t('evidence.registered_as', { reference: created.reference }) };
      changed();
      void reload(true);
    }), { class: 'btn btn-primary' })
    : null;

  void reload(false);
  return section(t('evidence.title'),
    h('p', { class: 'help' }, t('evidence.lead')),
    register ? h('div', { class: 'section-actions' }, register) : null,
    listArea, itemArea);
}

function integrityNotice(answer: EvidenceIntegrity): HTMLElement {
  const lines = integrityLines(answer);
  return notice(answer.intact ? 'success' : 'error', h('div', { class: 'integrity' },
    h('p', null, h('strong', null, answer.intact ? t('evidence.integrity_intact') : t('evidence.integrity_broken'))),
    h('ul', { class: 'plain' }, ...lines.map((line) => h('li', { class: line.ok === false ? 'chain-bad' : undefined },
      line.ok === true ? '✓ ' : line.ok === false ? '✗ ' : '– ', t(line.key, line.params),
      line.problem ? h('span', { class: 'help' }, ` (${line.problem})`) : null)))));
}

// A download states its purpose; the server records it in the chain of custody (action
// "accessed") before it hands out the file.
function downloadDialog(item: Evidence, itemBase: string, done: () => Promise<void>): void {
  const messages = messageArea();
  const purpose = field(t('evidence.purpose'), input('text', { maxlength: LIMITS.field }), { required: true, help: t('evidence.download_purpose_help') });
  const form = h('form', { novalidate: true }, messages.el, purpose.el, formActions(submit(t('evidence.download'))));
  const d = dialog(t('evidence.download_title', { reference: item.reference }), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    purpose.setError(null);
    const text = purpose.control.value.trim();
    if (!text) {
      purpose.setError(t('validation.required'));
      purpose.control.focus();
      return;
    }
    try {
      const blob = await busy(form, () => api<Blob>('GET', `${itemBase}/content`, undefined, { query: { purpose: text }, blob: true }));
      saveBlob(blob, item.filename ?? item.reference);
      d.close();
      await done();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = h('a', { href: url, download: filename });
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// Marks a field required or not after it was made (the custody form's fields depend on the
// action chosen).
function setRequired(f: Field<HTMLElement>, required: boolean): void {
  const label = f.el.querySelector('label');
  const marker = label?.querySelector('.required');
  if (required && !marker) label?.append(h('span', { class: 'required', 'aria-hidden': 'true' }, ' *'));
  if (!required && marker) marker.remove();
  if (required) f.control.setAttribute('aria-required', 'true');
  else f.control.removeAttribute('aria-required');
}

function showErrors(errors: Errors, fields: Record<string, Field<HTMLElement>>): boolean {
  const keys = Object.keys(errors).filter((k) => fields[k]);
  for (const [key, f] of Object.entries(fields)) f.setError(errors[key] ? t(errors[key].key, errors[key].params) : null);
  if (keys.length) fields[keys[0]].control.focus();
  return Object.keys(errors).length > 0;
}

// A server refusal naming a field lands next to it too.
function showServerError(error: unknown, fields: Record<string, Field<HTMLElement>>): void {
  if (error instanceof ApiError && error.field && fields[error.field]) fields[error.field].setError(error.message);
}

function custodyForm(item: Evidence, itemBase: string, chain: CustodyEvent[], messages: ReturnType<typeof messageArea>,
                     after: (text: string) => Promise<void>): HTMLElement | null {
  const actions = custodyActionsFor(item.status);
  if (!actions.length) return null;
  const action = field(t('evidence.action'), select(actions.map((a): [string, string] => [a, tEnum('case.custody_action', a)]), actions[0]), { required: true });
  const last = chain.length ? chain[chain.length - 1].at : null;
  const at = field(t('evidence.at'), input('datetime-local', { step: 1 }), {
    help: last ? t('evidence.at_help_after', { zone: timeZone(), last: formatDateTimeSeconds(last) }) : t('evidence.at_help', { zone: timeZone() }),
  });
  const toHolder = field(t('evidence.to_holder'), input('text', { maxlength: LIMITS.field }), { help: t('evidence.to_holder_help') });
  const location = field(t('evidence.location'), input('text', { maxlength: LIMITS.field }), { help: t('evidence.location_help') });
  const purpose = field(t('evidence.purpose'), textarea({ rows: 2, maxlength: LIMITS.text }));
  const seal = field(t('evidence.seal'), input('text', { maxlength: LIMITS.field }), { help: t('evidence.seal_help') });
  const sha256 = field(t('evidence.sha256_observed'), input('text', { maxlength: 64, spellcheck: 'false', autocomplete: 'off' }), { help: t('evidence.sha256_observed_help') });
  const fields: Record<string, Field<HTMLElement>> = { action, at, to_holder: toHolder, location, purpose, seal, sha256_observed: sha256 };

  const sync = () => {
    const needs = custodyNeeds(action.control.value);
    toHolder.el.hidden = !needs.toHolder;
    setRequired(toHolder, needs.toHolder);
    setRequired(purpose, needs.purpose);
    setRequired(seal, needs.seal);
    sha256.el.hidden = needs.sha256 === 'none';
    setRequired(sha256, needs.sha256 === 'required');
  };
  action.control.addEventListener('change', sync);
  sync();

  const form = h('form', { class: 'custody-form', novalidate: true },
    h('div', { class: 'two-col' },
      h('div', null, action.el, at.el, toHolder.el, location.el),
      h('div', null, purpose.el, seal.el, sha256.el)),
    formActions(submit(t('evidence.record'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values: CustodyFormValues = {
      action: action.control.value,
      at: (at.control as HTMLInputElement).value,
      to_holder: (toHolder.control as HTMLInputElement).value,
      location: (location.control as HTMLInputElement).value,
      purpose: (purpose.control as HTMLTextAreaElement).value,
      seal: (seal.control as HTMLInputElement).value,
      sha256_observed: (sha256.control as HTMLInputElement).value,
    };
    const { errors, body } = validateCustody(values, timeZone());
    if (showErrors(errors, fields)) return;
    try {
      const recorded = await busy(form, () => post<CustodyEvent>(`${itemBase}/custody`, body));
      await after(t('evidence.recorded', { action: tEnum('case.custody_action', recorded.action), seq: recorded.seq }));
    } catch (error) {
      messages.show('error', describe(error));
      showServerError(error, fields);
    }
  });
  return h('div', null, h('h4', null, t('evidence.record_title')), form);
}

function registerDialog(ctx: PageContext, base: string, orgs: Map<string, Organization>, done: (created: Evidence) => void): void {
  const messages = messageArea();
  const f = {
    label: field(t('evidence.label'), input('text', { maxlength: LIMITS.label }), { required: true, help: t('evidence.label_help') }),
    kind: field(t('evidence.kind'), enumSelect('case.evidence_kind', '', t('common.choose')), { required: true }),
    description: field(t('evidence.description'), textarea({ rows: 3, maxlength: LIMITS.text })),
    source_org_id: field(t('evidence.source_org'), orgSelect([...orgs.values()], '', t('common.not_given'))),
    source_host: field(t('evidence.source_host'), input('text', { maxlength: LIMITS.field })),
    acquired_at: field(t('evidence.acquired_at'), input('datetime-local', { step: 60, value: utcToWallTime(new Date(), timeZone()) }), { required: true, help: t('evidence.acquired_at_help', { zone: timeZone() }) }),
    acquired_by: field(t('evidence.acquired_by'), input('text', { maxlength: LIMITS.field }), { required: true, help: t('evidence.acquired_by_help') }),
    acquisition_method: field(t('evidence.method'), input('text', { maxlength: LIMITS.field }), { help: t('evidence.method_help') }),
    sha256: field('SHA-256', input('text', { maxlength: 64, spellcheck: 'false', autocomplete: 'off' }), { help: t('evidence.sha256_help') }),
    sha1: field('SHA-1', input('text', { maxlength: 40, spellcheck: 'false', autocomplete: 'off' })),
    md5: field('MD5', input('text', { maxlength: 32, spellcheck: 'false', autocomplete: 'off' })),
    size: field(t('evidence.size_bytes'), input('text', { inputmode: 'numeric', autocomplete: 'off' })),
    seal: field(t('evidence.seal'), input('text', { maxlength: LIMITS.field }), { help: t('evidence.seal_help') }),
    holder: field(t('evidence.holder'), input('text', { maxlength: LIMITS.field, value: ctx.session.me.user.display_name || ctx.session.me.user.username }), { required: true, help: t('evidence.holder_help') }),
    location: field(t('evidence.location'), input('text', { maxlength: LIMITS.field }), { help: t('evidence.location_help') }),
  };
  const form = h('form', { novalidate: true }, messages.el,
    h('fieldset', null, h('legend', null, t('evidence.group_item')), f.label.el, f.kind.el, f.description.el),
    h('fieldset', null, h('legend', null, t('evidence.group_acquisition')), f.source_org_id.el, f.source_host.el, f.acquired_at.el, f.acquired_by.el, f.acquisition_method.el),
    h('fieldset', null, h('legend', null, t('evidence.group_identity')), f.sha256.el, f.sha1.el, f.md5.el, f.size.el, f.seal.el),
    h('fieldset', null, h('legend', null, t('evidence.group_custody')), f.holder.el, f.location.el),
    formActions(submit(t('evidence.register_submit'))));
  const d = dialog(t('evidence.register'), form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (key: keyof typeof f) => (f[key].control as HTMLInputElement).value;
    const values: EvidenceFormValues = {
      label: value('label'), description: value('description'), kind: value('kind'), source_org_id: value('source_org_id'),
      source_host: value('source_host'), acquired_at: value('acquired_at'), acquired_by: value('acquired_by'),
      acquisition_method: value('acquisition_method'), sha256: value('sha256'), sha1: value('sha1'), md5: value('md5'),
      size: value('size'), holder: value('holder'), location: value('location'), seal: value('seal'),
    };
    const { errors, body } = validateEvidence(values, timeZone());
    if (showErrors(errors, f)) {
      messages.show('error', t('validation.summary', { count: Object.keys(errors).length }));
      return;
    }
    try {
      const created = await busy(form, () => post<Evidence>(`${base}/evidence`, body));
      d.close();
      done(created);
    } catch (error) {
      messages.show('error', describe(error));
      showServerError(error, f);
    }
  });
  d.open();
}
