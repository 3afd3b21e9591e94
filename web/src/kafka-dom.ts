// Small DOM builders for the Kafka console. Everything from the cluster goes in as text, never as HTML.

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
  return el;
}

/** A table in a horizontal scroller, so a phone scrolls the table and never the page. */
export function table(className: string, head: readonly string[], rows: readonly (readonly Child[])[], numeric: readonly number[] = []): HTMLElement {
  const th = head.map((label, i) => h('th', { class: numeric.includes(i) ? 'num' : undefined, scope: 'col' }, label));
  const body = rows.map((cells) => h('tr', {}, ...cells.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : undefined }, c))));
  if (rows.length === 0) body.push(h('tr', {}, h('td', { class: 'empty', colspan: String(head.length) }, 'none')));
  return h('div', { class: 'table-scroll' }, h('table', { class: `kafka-table ${className}` }, h('thead', {}, h('tr', {}, ...th)), h('tbody', {}, ...body)));
}

const count = new Intl.NumberFormat();

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : count.format(n);
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** Local date and time with milliseconds. */
export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
