import { describe, expect, it } from 'vitest';
import { matchPattern, resolve } from '../router';

const routes = [
  { name: 'incidents', pattern: '/incidents' },
  { name: 'incident-new', pattern: '/incidents/new' },
  { name: 'incident', pattern: '/incidents/:id' },
  { name: 'overview', pattern: '/' },
];

describe('routes', () => {
  it('matches parameters', () => {
    expect(matchPattern('/incidents/:id', '/incidents/0193abc')).toEqual({ id: '0193abc' });
    expect(matchPattern('/incidents/:id', '/incidents')).toBeNull();
    expect(matchPattern('/incidents/:id', '/incidents/a%20b')).toEqual({ id: 'a b' });
    expect(matchPattern('/incidents/:id', '/incidents/%E0%A4%A')).toBeNull();
  });

  it('prefers the first route listed and ignores a trailing slash', () => {
    expect(resolve(routes, '/incidents/new')?.name).toBe('incident-new');
    expect(resolve(routes, '/incidents/xyz')).toEqual({ name: 'incident', params: { id: 'xyz' } });
    expect(resolve(routes, '/incidents/')?.name).toBe('incidents');
    expect(resolve(routes, '/')?.name).toBe('overview');
    expect(resolve(routes, '/nowhere')).toBeNull();
  });
});
