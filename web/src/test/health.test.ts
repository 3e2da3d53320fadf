import { describe, expect, it } from 'vitest';
import { healthNotices, type Health } from '../health';

const ok: Health = { status: 'ok', database: 'ok', ingest: { status: 'ok', spool_bytes: 0, spool_limit_bytes: 1 } };

describe('what the console says about the service’s health', () => {
  it('says nothing when all is well or ingest is off', () => {
    expect(healthNotices(ok)).toEqual([]);
    expect(healthNotices({ ...ok, ingest: { status: 'off' } })).toEqual([]);
  });

  it('reports a failed spool with the server’s reason', () => {
    const failed: Health = { status: 'unavailable', database: 'ok', ingest: { status: 'failed', problem: 'cannot sync x: Input/output error' } };
    expect(healthNotices(failed)).toEqual([
      { kind: 'error', key: 'health.ingest_failed', params: { problem: 'cannot sync x: Input/output error' } },
    ]);
  });

  it('reports detection that has stalled with the events waiting', () => {
    const stalled: Health = { ...ok, status: 'unavailable', detection: { status: 'stalled', lag_events: 1200 } };
    expect(healthNotices(stalled)).toEqual([{ kind: 'error', key: 'health.detection_stalled', params: { events: '1200' } }]);
    expect(healthNotices({ ...ok, detection: { status: 'ok', lag_events: 5 } })).toEqual([]);
  });

  it('warns when senders are slowed down, and puts an unreachable database first', () => {
    expect(healthNotices({ ...ok, ingest: { status: 'full' } })).toEqual([{ kind: 'warning', key: 'health.ingest_full', params: {} }]);
    const both: Health = { status: 'unavailable', database: 'unreachable', ingest: { status: 'full' } };
    expect(healthNotices(both).map((n) => n.key)).toEqual(['health.database_unreachable', 'health.ingest_full']);
  });
});
