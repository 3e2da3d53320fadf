// Client-side routing on the history API: real paths (/incidents/0193…) that can be
// bookmarked, reloaded and opened in a new tab; `yagura serve` answers index.html for them.
// Links are ordinary <a href> elements; a click on a same-origin link without modifier keys
// is turned into pushState, so middle-click and "open in new tab" keep working.

export interface RouteMatch {
  name: string;
  params: Record<string, string>;
}

export interface RouteDef {
  name: string;
  pattern: string;
}

// "/incidents/:id" against "/incidents/0193abc": {id: "0193abc"}; null when it does not match.
export function matchPattern(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(have[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== have[i]) {
      return null;
    }
  }
  return params;
}

export function resolve(routes: RouteDef[], path: string): RouteMatch | null {
  const clean = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  for (const route of routes) {
    const params = matchPattern(route.pattern, clean);
    if (params) return { name: route.name, params };
  }
  return null;
}

type Listener = () => void;
let listener: Listener | null = null;

export function startRouter(onChange: Listener): void {
  listener = onChange;
  window.addEventListener('popstate', () => listener?.());
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin) return;
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/taxii2/')) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  listener?.();
}

export function currentPath(): string {
  return location.pathname;
}

export function currentQuery(): URLSearchParams {
  return new URLSearchParams(location.search);
}

// Keeps a page's filters in the address, so that back/forward and reload restore them.
export function setQuery(params: Record<string, string | null | undefined>): void {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value) query.set(key, value);
  }
  const text = query.toString();
  history.replaceState(null, '', location.pathname + (text ? `?${text}` : ''));
}
