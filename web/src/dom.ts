// A few DOM helpers: the pages are plain DOM built with `h`, no framework. Text always goes in as
// text nodes (never innerHTML), so scanner or vendor text cannot inject markup.

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let uid = 0;
/** A unique id for label/control pairs. */
export function nextId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled control: the label's `for` names the control's id. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || nextId('f');
  control.id = id;
  const parts: Child[] = [h('label', { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('small', { id: hintId, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function select(
  name: string,
  options: Array<[string, string]>,
  value: string,
  attrs: Attrs = {},
): HTMLSelectElement {
  const el = h('select', { name, ...attrs });
  for (const [v, label] of options) {
    el.appendChild(h('option', { value: v, selected: v === value }, label));
  }
  return el;
}

const UNITS: Array<[number, string]> = [
  [86400, 'd'],
  [3600, 'h'],
  [60, 'min'],
];

/** "2 d 3 h", "45 min", "30 s": the two largest units. */
export function duration(secs: number): string {
  if (secs < 60) return `${Math.max(0, Math.round(secs))} s`;
  const parts: string[] = [];
  let rest = Math.floor(secs);
  for (const [size, unit] of UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}

/** A time as "2026-12-04 21:35 UTC" (the machine-readable value in a <time> element). */
export function time(iso: string | null | undefined): Node {
  if (!iso) return document.createTextNode('—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return document.createTextNode(iso);
  const text = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return h('time', { datetime: iso }, text);
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const secs = (now - new Date(iso).getTime()) / 1000;
  return secs < 0 ? `in ${duration(-secs)}` : `${duration(secs)} ago`;
}

export function severityBadge(sev: string): HTMLElement {
  return h('span', { class: `badge sev-${sev}` }, sev);
}

/** Runs `work` with `button` disabled (no double submit), hands a failure to `failed`, and
 * enables the button again whatever happened. */
export async function whileDisabled(
  button: HTMLButtonElement,
  work: () => Promise<void>,
  failed: (e: unknown) => void,
): Promise<void> {
  button.disabled = true;
  try {
    await work();
  } catch (e) {
    failed(e);
  } finally {
    button.disabled = false;
  }
}
