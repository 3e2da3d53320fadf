import { describe, expect, it } from 'vitest';
import { createUserNameResolver, type UserNameItem } from '../user_names';

function item(id: string): UserNameItem {
  return { id, display_name: `name of ${id}`, organization_id: 'org', organization_name: 'Org' };
}

// A fake server that names every id except those starting with "hidden".
function fakeFetch() {
  const calls: string[][] = [];
  const fetchNames = async (ids: string[]) => {
    calls.push([...ids]);
    return ids.filter((id) => !id.startsWith('hidden')).map(item);
  };
  return { calls, fetchNames };
}

describe('the user names resolver', () => {
  it('batches the ids asked for during one render into one request', async () => {
    const { calls, fetchNames } = fakeFetch();
    const names = createUserNameResolver(fetchNames);
    const a = names.resolve(['u1', 'u2']);
    const b = names.resolve(['u2', 'u3', 'hidden1']);
    expect(names.cached('u1')).toBeUndefined();
    await Promise.all([a, b]);
    expect(calls).toEqual([['u1', 'u2', 'u3', 'hidden1']]);
    expect(names.cached('u3')?.display_name).toBe('name of u3');
    expect(names.cached('hidden1')).toBeNull();
  });

  it('caches answers, including ids the server does not name', async () => {
    const { calls, fetchNames } = fakeFetch();
    const names = createUserNameResolver(fetchNames);
    await names.resolve(['u1', 'hidden1']);
    await names.resolve(['u1', 'hidden1', 'u4']);
    expect(calls).toEqual([['u1', 'hidden1'], ['u4']]);
    await names.resolve(['u4']);
    expect(calls.length).toBe(2);
  });

  it('splits more than 100 ids into requests of at most 100', async () => {
    const { calls, fetchNames } = fakeFetch();
    const names = createUserNameResolver(fetchNames);
    await names.resolve(Array.from({ length: 250 }, (_, i) => `u${i}`));
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
  });

  it('tells listeners which ids were named and forgets everything on clear', async () => {
    const { calls, fetchNames } = fakeFetch();
    const names = createUserNameResolver(fetchNames);
    const named: string[][] = [];
    names.onNamed((ids) => named.push(ids));
    await names.resolve(['u1', 'hidden1']);
    expect(named).toEqual([['u1']]);
    names.clear();
    expect(names.cached('u1')).toBeUndefined();
    await names.resolve(['u1']);
    expect(calls.length).toBe(2);
  });

  it('keeps short ids after a failed request and asks again later', async () => {
    let fail = true;
    const calls: string[][] = [];
    const names = createUserNameResolver(async (ids) => {
      calls.push(ids);
      if (fail) throw new Error('offline');
      return ids.map(item);
    });
    await names.resolve(['u1']);
    expect(names.cached('u1')).toBeUndefined();
    fail = false;
    await names.resolve(['u1']);
    expect(names.cached('u1')?.display_name).toBe('name of u1');
    expect(calls.length).toBe(2);
  });
});
