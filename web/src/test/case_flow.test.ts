import { describe, expect, it } from 'vitest';
import {
  caseMoves, custodyActionsFor, custodyNeeds, custodyRows, GENESIS_HASH, hashPrefix, integrityLines, linkTarget,
  validateCustody, validateEvidence, type CustodyFormValues, type EvidenceFormValues,
} from '../case_flow';

const NOW = Date.parse('2027-01-15T12:00:00Z');

describe('the status of a case', () => {
  it('holds and closes an open case, closing with its conclusion', () => {
    expect(caseMoves('open')).toEqual([
      { to: 'on_hold', action: 'hold', noteRequired: false },
      { to: 'closed', action: 'close', noteRequired: true },
    ]);
  });

  it('resumes or closes a case on hold', () => {
    expect(caseMoves('on_hold').map((m) => [m.to, m.action])).toEqual([['open', 'resume'], ['closed', 'close']]);
  });

  it('only reopens a closed case, with the reason', () => {
    expect(caseMoves('closed')).toEqual([{ to: 'open', action: 'reopen', noteRequired: true }]);
    expect(caseMoves('unknown')).toEqual([]);
  });
});

const evidence: EvidenceFormValues = {
  label: ' FS01 system disk ', description: '', kind: 'disk_image', source_org_id: '', source_host: ' fs01 ',
  acquired_at: '2027-01-15T17:00', acquired_by: 'Sato Hanako', acquisition_method: '', sha256: 'AB'.repeat(32),
  sha1: '', md5: '', size: '1024', holder: 'Evidence room B', location: '', seal: '',
};

describe('registering evidence', () => {
  it('builds the API body in UTC, hashes in lower case, empty fields left out', () => {
    const { errors, body } = validateEvidence(evidence, 'Asia/Tokyo', NOW);
    expect(errors).toEqual({});
    expect(body).toEqual({
      label: 'FS01 system disk', kind: 'disk_image', source_host: 'fs01', acquired_at: '2027-01-15T08:00:00.000Z',
      acquired_by: 'Sato Hanako', sha256: 'ab'.repeat(32), size: 1024, holder: 'Evidence room B',
    });
  });

  it('names every missing or malformed field at once', () => {
    const { errors } = validateEvidence({
      ...evidence, label: ' ', kind: '', acquired_by: '', holder: '', sha256: 'xyz', md5: 'a'.repeat(31), size: '-1',
    }, 'Asia/Tokyo', NOW);
    expect(Object.keys(errors).sort()).toEqual(['acquired_by', 'holder', 'kind', 'label', 'md5', 'sha256', 'size']);
    expect(errors.sha256).toEqual({ key: 'validation.hex', params: { digits: 64 } });
    expect(errors.md5).toEqual({ key: 'validation.hex', params: { digits: 32 } });
  });

  it('refuses an acquisition in the future or not a time', () => {
    expect(validateEvidence({ ...evidence, acquired_at: '2027-01-16T17:00' }, 'Asia/Tokyo', NOW).errors.acquired_at).toEqual({ key: 'validation.future' });
    expect(validateEvidence({ ...evidence, acquired_at: 'yesterday' }, 'Asia/Tokyo', NOW).errors.acquired_at).toEqual({ key: 'validation.datetime' });
  });
});

describe('the chain of custody', () => {
  it('knows what each action needs', () => {
    expect(custodyNeeds('transferred')).toEqual({ toHolder: true, purpose: false, seal: false, sha256: 'none' });
    expect(custodyNeeds('checked_out')).toEqual({ toHolder: true, purpose: true, seal: false, sha256: 'none' });
    expect(custodyNeeds('verified')).toEqual({ toHolder: false, purpose: false, seal: false, sha256: 'required' });
    expect(custodyNeeds('examined')).toEqual({ toHolder: false, purpose: true, seal: false, sha256: 'optional' });
    expect(custodyNeeds('sealed').seal).toBe(true);
    expect(custodyNeeds('destroyed')).toEqual({ toHolder: false, purpose: true, seal: false, sha256: 'none' });
  });

  it('offers only the actions the item\'s status allows', () => {
    expect(custodyActionsFor('in_custody')).not.toContain('checked_in');
    expect(custodyActionsFor('in_custody')).toContain('transferred');
    expect(custodyActionsFor('checked_out')).toContain('checked_in');
    expect(custodyActionsFor('checked_out')).not.toContain('checked_out');
    expect(custodyActionsFor('checked_out')).not.toContain('transferred');
    expect(custodyActionsFor('released')).toEqual([]);
    expect(custodyActionsFor('destroyed')).toEqual([]);
  });

  const record: CustodyFormValues = { action: 'transferred', at: '', to_holder: ' Evidence room B ', location: '', purpose: '', seal: 'S-0042', sha256_observed: 'ab'.repeat(32) };

  it('sends only the fields the action takes', () => {
    const { errors, body } = validateCustody(record, 'Asia/Tokyo', NOW);
    expect(errors).toEqual({});
    // A transfer changes hands; it takes no observed hash (left out), and "now" is the server's.
    expect(body).toEqual({ action: 'transferred', to_holder: 'Evidence room B', seal: 'S-0042' });
    const seal = validateCustody({ ...record, action: 'sealed' }, 'Asia/Tokyo', NOW).body;
    expect(seal).toEqual({ action: 'sealed', seal: 'S-0042' });
  });

  it('asks for what an action requires', () => {
    expect(validateCustody({ ...record, to_holder: '' }, 'UTC', NOW).errors).toEqual({ to_holder: { key: 'validation.required' } });
    expect(validateCustody({ ...record, action: 'checked_out', purpose: '' }, 'UTC', NOW).errors.purpose).toEqual({ key: 'validation.required' });
    expect(validateCustody({ ...record, action: 'verified', sha256_observed: '' }, 'UTC', NOW).errors.sha256_observed).toEqual({ key: 'validation.required' });
    expect(validateCustody({ ...record, action: 'verified', sha256_observed: 'abc' }, 'UTC', NOW).errors.sha256_observed).toEqual({ key: 'validation.hex', params: { digits: 64 } });
    expect(validateCustody({ ...record, action: 'unsealed', seal: ' ' }, 'UTC', NOW).errors.seal).toEqual({ key: 'validation.required' });
    expect(validateCustody({ ...record, action: 'accessed' }, 'UTC', NOW).errors.action).toEqual({ key: 'validation.required' });
  });

  it('reads the time in the user\'s zone and refuses one in the future', () => {
    expect(validateCustody({ ...record, at: '2027-01-15T20:59:30' }, 'Asia/Tokyo', NOW).body.at).toBe('2027-01-15T11:59:30.000Z');
    expect(validateCustody({ ...record, at: '2027-01-15T21:30' }, 'Asia/Tokyo', NOW).errors.at).toEqual({ key: 'validation.future' });
  });

  it('shows the first digits of a hash', () => {
    expect(hashPrefix('0123456789abcdef'.repeat(4))).toBe('0123456789ab…');
    expect(hashPrefix('abc')).toBe('abc');
    expect(hashPrefix(null)).toBe('—');
  });

  it('orders the chain and marks each event that names its predecessor\'s hash', () => {
    const event = (seq: number, prev: string, hash: string, from = 'A', to = 'A') => ({ seq, prev_hash: prev, hash, holder_from: from, holder_to: to });
    const rows = custodyRows([
      event(3, 'h2', 'h3'),
      event(1, GENESIS_HASH, 'h1', 'Sato', 'A'),
      event(2, 'h1', 'h2', 'A', 'Evidence room B'),
      event(4, 'tampered', 'h4'),
    ]);
    expect(rows.map((r) => r.event.seq)).toEqual([1, 2, 3, 4]);
    expect(rows.map((r) => r.linked)).toEqual([true, true, true, false]);
    expect(rows.map((r) => r.handover)).toEqual([true, true, false, false]);
    expect(custodyRows([event(1, 'h0', 'h1')])[0].linked).toBe(false);
  });
});

describe('the integrity check', () => {
  it('says everything is intact, with the stored file\'s hash', () => {
    const lines = integrityLines({
      chain: { intact: true, events: 4, first_bad_seq: null, problem: null },
      registration: { intact: true, problem: null },
      content: { stored: true, matches: true, sha256: 'ab'.repeat(32) },
    });
    expect(lines.map((l) => [l.part, l.ok, l.key])).toEqual([
      ['chain', true, 'evidence.integrity_chain_ok'],
      ['registration', true, 'evidence.integrity_registration_ok'],
      ['content', true, 'evidence.integrity_file_ok'],
    ]);
    expect(lines[0].params).toEqual({ events: 4 });
  });

  it('names the first bad event, a changed registration and a file that does not match', () => {
    const lines = integrityLines({
      chain: { intact: false, events: 5, first_bad_seq: 3, problem: 'event 3 does not carry the hash of event 2' },
      registration: { intact: false, problem: 'sha256 changed' },
      content: { stored: true, matches: false, sha256: 'cd'.repeat(32) },
    });
    expect(lines[0]).toEqual({ part: 'chain', ok: false, key: 'evidence.integrity_chain_bad_at', params: { seq: 3 }, problem: 'event 3 does not carry the hash of event 2' });
    expect(lines[1]).toMatchObject({ ok: false, key: 'evidence.integrity_registration_bad', problem: 'sha256 changed' });
    expect(lines[2]).toMatchObject({ ok: false, key: 'evidence.integrity_file_bad' });
  });

  it('checks no file when none is stored', () => {
    const lines = integrityLines({
      chain: { intact: false, events: 2, first_bad_seq: null, problem: 'events are missing' },
      registration: { intact: true, problem: null },
      content: { stored: false, matches: null, sha256: null },
    });
    expect(lines[0].key).toBe('evidence.integrity_chain_bad');
    expect(lines[2]).toEqual({ part: 'content', ok: null, key: 'evidence.integrity_no_file' });
  });
});

describe('what to link', () => {
  const id = '01a229fc-9116-7cb6-a2cd-7337406c9f22';

  it('takes a bare id with the chosen type', () => {
    expect(linkTarget(` ${id} `, 'alert')).toEqual({ type: 'alert', id });
    expect(linkTarget(id.toUpperCase(), 'incident')).toEqual({ type: 'incident', id });
  });

  it('takes the type and id from a page\'s address', () => {
    expect(linkTarget(`https://yagura.example/incidents/${id}`, 'alert')).toEqual({ type: 'incident', id });
    expect(linkTarget(`/alerts/${id}?tab=details`, 'incident')).toEqual({ type: 'alert', id });
  });

  it('refuses what is no id', () => {
    expect(linkTarget('', 'incident')).toBeNull();
    expect(linkTarget('INC-2027-000001', 'incident')).toBeNull();
    expect(linkTarget('https://yagura.example/advisories/x', 'incident')).toBeNull();
  });
});
