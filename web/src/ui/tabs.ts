// Tabs (WAI-ARIA tab pattern): a tablist of buttons, one panel shown at a time. The arrow keys,
// Home and End move between tabs; only the selected tab is in the Tab order. The chosen tab is
// kept in the address (?tab=), so a reload or a page refreshed after a change shows the same one.
import { h, uid } from '../dom';
import { currentQuery } from '../router';

export interface Tab {
  name: string;
  label: string;
  // Built when first shown.
  render: () => HTMLElement;
}

export function tabs(list: Tab[], fallback: string, label: string): HTMLElement {
  const wanted = currentQuery().get('tab');
  let selected = list.find((tab) => tab.name === wanted)?.name ?? (list.find((tab) => tab.name === fallback) ?? list[0]).name;
  const prefix = uid('tab');
  const buttons: HTMLButtonElement[] = [];
  const panels: HTMLElement[] = [];
  const built = new Set<string>();

  const show = (name: string, focus: boolean) => {
    selected = name;
    list.forEach((tab, index) => {
      const on = tab.name === name;
      buttons[index].setAttribute('aria-selected', String(on));
      buttons[index].tabIndex = on ? 0 : -1;
      panels[index].hidden = !on;
      if (on && !built.has(tab.name)) {
        built.add(tab.name);
        panels[index].appendChild(tab.render());
      }
      if (on && focus) buttons[index].focus();
    });
    const query = currentQuery();
    query.set('tab', name);
    history.replaceState(null, '', `${location.pathname}?${query.toString()}`);
  };

  list.forEach((tab, index) => {
    const button = h('button', {
      type: 'button', role: 'tab', id: `${prefix}-${tab.name}`, class: 'tab',
      'aria-controls': `${prefix}-${tab.name}-panel`, 'data-tab': tab.name,
      onclick: () => show(tab.name, false),
      onkeydown: (event: KeyboardEvent) => {
        const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: list.length - 1 };
        if (!(event.key in moves)) return;
        event.preventDefault();
        show(list[(moves[event.key] + list.length) % list.length].name, true);
      },
    }, tab.label);
    buttons.push(button);
    panels.push(h('div', { role: 'tabpanel', id: `${prefix}-${tab.name}-panel`, 'aria-labelledby': button.id, class: 'tab-panel', tabindex: '0' }));
  });
  const el = h('div', { class: 'tabs' },
    h('div', { role: 'tablist', 'aria-label': label, class: 'tab-list' }, ...buttons),
    ...panels);
  // Draw the first panel without touching the address: opening the page adds no ?tab=.
  list.forEach((tab, index) => {
    const on = tab.name === selected;
    buttons[index].setAttribute('aria-selected', String(on));
    buttons[index].tabIndex = on ? 0 : -1;
    panels[index].hidden = !on;
    if (on) {
      built.add(tab.name);
      panels[index].appendChild(tab.render());
    }
  });
  return el;
}
