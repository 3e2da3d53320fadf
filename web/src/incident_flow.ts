// The incident lifecycle as the server enforces it (hub::CheckTransition): forward only; a
// reported incident is triaged first; resolved or closed ones may be reopened to investigating
// by a centre_admin, with a note giving the reason. The triage view offers exactly these moves.
export const INCIDENT_STATUSES = ['reported', 'triaged', 'investigating', 'contained', 'resolved', 'closed'] as const;

export function nextStatuses(from: string, isCentreAdmin: boolean): string[] {
  const index = INCIDENT_STATUSES.indexOf(from as (typeof INCIDENT_STATUSES)[number]);
  if (index < 0) return [];
  if (from === 'reported') return ['triaged'];
  const forward: string[] = INCIDENT_STATUSES.slice(index + 1);
  if ((from === 'resolved' || from === 'closed') && isCentreAdmin) forward.unshift('investigating');
  return forward;
}

export function noteRequired(from: string, to: string): boolean {
  return (from === 'resolved' || from === 'closed') && to === 'investigating';
}
