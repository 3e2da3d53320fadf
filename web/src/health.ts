// The service's health as GET /healthz reports it, and what the console tells the centre's
// staff about it: live ingest refusing events after a disk error, or slowing sensors down
// because detection is behind, is something an analyst must know before trusting a quiet
// overview.
export interface Health {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unreachable';
  ingest: {
    status: 'ok' | 'full' | 'failed' | 'off';
    problem?: string;
    spool_bytes?: number;
    spool_limit_bytes?: number;
  };
  detection?: {
    status: 'ok' | 'stalled' | 'off';
    lag_events?: number;
    last_progress?: string;
  };
}

export interface HealthNotice {
  kind: 'error' | 'warning';
  key: string;  // i18n key
  params: Record<string, string>;
}

// What to show, most serious first; none when all is well (or ingest is off).
export function healthNotices(health: Health): HealthNotice[] {
  const notices: HealthNotice[] = [];
  if (health.database === 'unreachable') {
    notices.push({ kind: 'error', key: 'health.database_unreachable', params: {} });
  }
  if (health.ingest?.status === 'failed') {
    notices.push({ kind: 'error', key: 'health.ingest_failed', params: { problem: health.ingest.problem ?? '' } });
  } else if (health.ingest?.status === 'full') {
    notices.push({ kind: 'warning', key: 'health.ingest_full', params: {} });
  }
  if (health.detection?.status === 'stalled') {
    notices.push({ kind: 'error', key: 'health.detection_stalled', params: { events: String(health.detection.lag_events ?? 0) } });
  }
  return notices;
}

// GET /healthz answers 503 with the same body when something has failed.
export async function fetchHealth(): Promise<Health> {
  const response = await fetch('/healthz', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  return (await response.json()) as Health;
}
