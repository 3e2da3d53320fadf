// The heatmap's colour steps: a count as one of six CSS classes (heat-0 … heat-5) relative to
// the largest count shown. Classes, not inline colours, because the CSP forbids style
// attributes; and every cell also shows its number, so colour is never the only signal.
export function heatClass(count: number, max: number): string {
  if (count <= 0 || max <= 0) return 'heat-0';
  const step = Math.ceil((Math.min(count, max) / max) * 5);
  return `heat-${Math.max(1, Math.min(5, step))}`;
}
