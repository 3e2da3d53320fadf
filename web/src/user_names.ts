// Names of the people behind the user ids other resources carry (incident authors, assignees,
// commenters, alert assignees...). GET /api/v1/users lists only users the caller manages, so
// names come from GET /api/v1/users/names, which answers what the caller may know.
//
// Ids asked for while a page renders are collected and sent together once the render's
// synchronous work is done (one request per 100 ids, the route's limit). Answers, including
// "not given", are cached until sign-out, so each id is asked for at most once per sign-in.
// An id the server does not name stays shown as its short form.
import { get } from './api';

export interface UserNameItem {
  id: string;
  display_name: string;
  organization_id: string;
  organization_name: string;
}

export type NamesFetcher = (ids: string[]) => Promise<UserNameItem[]>;

export const MAX_IDS_PER_REQUEST = 100;

export interface UserNameResolver {
  // The cached answer: the item, null when the server did not name the id, undefined when
  // not asked yet.
  cached(id: string): UserNameItem | null | undefined;
  // Queues the ids not cached yet; resolves once all of them are answered.
  resolve(ids: Iterable<string>): Promise<void>;
  // Called after each answered batch with the ids it named.
  onNamed(listener: (ids: string[]) => void): () => void;
  clear(): void;
}

export function createUserNameResolver(fetchNames: NamesFetcher): UserNameResolver {
  const cache = new Map<string, UserNameItem | null>();
  const inFlight = new Map<string, Promise<void>>();
  const listeners = new Set<(ids: string[]) => void>();
  let queued: string[] = [];
  let flush: Promise<void> | null = null;
  let generation = 0;

  async function send(ids: string[], at: number): Promise<void> {
    let items: UserNameItem[] = [];
    try {
      items = await fetchNames(ids);
    } catch {
      // Names are a nicety: on failure the short ids stay, and a later render may ask again.
      if (at === generation) ids.forEach((id) => inFlight.delete(id));
      return;
    }
    if (at !== generation) return;  // signed out meanwhile
    const named: string[] = [];
    for (const id of ids) cache.set(id, null);
    for (const item of items) {
      if (!ids.includes(item.id)) continue;
      cache.set(item.id, item);
      named.push(item.id);
    }
    ids.forEach((id) => inFlight.delete(id));
    if (named.length) listeners.forEach((listener) => listener(named));
  }

  function schedule(): Promise<void> {
    if (!flush) {
      const at = generation;
      flush = Promise.resolve().then(async () => {
        const ids = queued;
        queued = [];
        flush = null;
        const batches: Promise<void>[] = [];
        for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
          batches.push(send(ids.slice(i, i + MAX_IDS_PER_REQUEST), at));
        }
        await Promise.all(batches);
      });
    }
    return flush;
  }

  return {
    cached: (id) => cache.get(id),
    resolve(ids) {
      const waits: Promise<void>[] = [];
      for (const id of ids) {
        if (!id || cache.has(id)) continue;
        const pending = inFlight.get(id);
        if (pending) {
          waits.push(pending);
          continue;
        }
        queued.push(id);
        const done = schedule();
        inFlight.set(id, done);
        waits.push(done);
      }
      return Promise.all(waits).then(() => undefined);
    },
    onNamed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clear() {
      generation += 1;
      cache.clear();
      inFlight.clear();
      queued = [];
      flush = null;
    },
  };
}

export const userNames = createUserNameResolver(async (ids) =>
  (await get<{ items: UserNameItem[] }>('/api/v1/users/names', { ids: ids.join(',') })).items);
