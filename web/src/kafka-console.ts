import { withoutBidiControls } from './bidi-controls.ts';
import { kafkaApi, type KafkaClusterInfo, type KafkaGroupInfo, type KafkaTopicInfo, type NewTopic } from './kafka-api.ts';
import { formatBytes, formatCount, h, messageOf, table } from './kafka-dom.ts';
import { roleBadge, topicView } from './kafka-topic.ts';

// The Kafka console lives in the same page as the dashboard, under the address #/kafka
// (overview) and #/kafka/topic/<name> (one topic), so it needs no second HTML entry.

const ROUTE = '#/kafka';
const TOPIC_ROUTE = `${ROUTE}/topic/`;

type Route = { kind: 'overview' } | { kind: 'topic'; name: string };

export function isKafkaRoute(hash: string = location.hash): boolean {
  return hash === ROUTE || hash.startsWith(`${ROUTE}/`);
}

function routeOf(hash: string): Route {
  if (hash.startsWith(TOPIC_ROUTE)) {
    try {
      return { kind: 'topic', name: decodeURIComponent(hash.slice(TOPIC_ROUTE.length)) };
    } catch {
      return { kind: 'overview' };
    }
  }
  return { kind: 'overview' };
}

export const topicHref = (name: string): string => `${TOPIC_ROUTE}${encodeURIComponent(name)}`;

export interface KafkaConsoleMount {
  /** The "Kafka" link in the top bar; shown when the cluster has a console. */
  readonly tab: HTMLAnchorElement;
  /** The link back to the dashboard; it keeps the dashboard's last address. */
  readonly dashboardTab: HTMLAnchorElement;
  /** The dashboard's own layout, hidden while the console shows. */
  readonly dashboard: HTMLElement;
  readonly root: HTMLElement;
  /** True in the cluster profile (GET /api/config says profile=cluster). */
  readonly available: boolean;
}

/** Wires the #/kafka address to the console: shows one or the other on every address change. */
export function mountKafkaConsole(m: KafkaConsoleMount): void {
  const page = new KafkaConsolePage(m.root, m.available, m.dashboardTab);
  m.tab.hidden = !m.available;
  const apply = (): void => {
    const kafka = isKafkaRoute();
    m.dashboard.hidden = kafka;
    m.root.hidden = !kafka;
    m.tab.classList.toggle('active', kafka);
    m.dashboardTab.classList.toggle('active', !kafka);
    m.tab.setAttribute('aria-current', String(kafka));
    m.dashboardTab.setAttribute('aria-current', String(!kafka));
    if (kafka) void page.show(routeOf(location.hash));
  };
  window.addEventListener('hashchange', (event) => {
    // Coming back to the dashboard returns to the symbol and interval it showed.
    const before = new URL(event.oldURL).hash;
    if (!isKafkaRoute(before) && isKafkaRoute()) m.dashboardTab.href = before === '' ? '#' : before;
    apply();
  });
  apply();
}

/** What the console shows when the server runs the embedded profile, whose log has no brokers to browse. */
function unavailableNotice(dashboardHref: string): HTMLElement {
  return h(
    'section',
    { class: 'kafka-unavailable', 'aria-label': 'Kafka console unavailable' },
    h('h2', {}, 'The Kafka console needs the cluster profile'),
    h('p', {}, 'This server runs the embedded profile: its trade log lives inside the process, with no brokers, topics or consumer groups to browse.'),
    h('p', {}, 'To see them, start Kafka and run the pipeline against it:'),
    h('pre', { class: 'mono' }, 'npx tickstream stack up          # Kafka and Cassandra\nnpm start -- --profile cluster'),
    h('a', { href: dashboardHref, class: 'back' }, '← Dashboard'),
  );
}

class KafkaConsolePage {
  readonly #error = h('p', { class: 'kafka-error', role: 'alert', hidden: true });
  readonly #body = h('div', { class: 'kafka-body' });
  /** Bumped on every navigation: an answer for an older view is dropped. */
  #generation = 0;
  /** What the overview's filter holds; kept across refreshes. */
  #filter = '';

  readonly #available: boolean;
  readonly #dashboardTab: HTMLAnchorElement;

  constructor(root: HTMLElement, available: boolean, dashboardTab: HTMLAnchorElement) {
    this.#available = available;
    this.#dashboardTab = dashboardTab;
    root.replaceChildren(this.#error, this.#body);
  }

  async show(route: Route): Promise<void> {
    const generation = ++this.#generation;
    if (!this.#available) {
      // Nothing to ask the API: say why, and how to get a console, instead of showing its 404s as errors.
      this.#body.replaceChildren(unavailableNotice(this.#dashboardTab.href));
      return;
    }
    const current = (): boolean => generation === this.#generation;
    this.#body.replaceChildren(h('p', { class: 'muted kafka-loading' }, 'loading…'));
    try {
      if (route.kind === 'topic') {
        const topic = await kafkaApi.topic(route.name);
        if (!current()) return;
        this.#report(undefined);
        this.#body.replaceChildren(
          topicView(topic, {
            report: (e) => this.#report(e),
            deleted: () => (location.hash = ROUTE),
            current,
          }),
        );
        return;
      }
      const [cluster, topics, groups] = await Promise.all([kafkaApi.brokers(), kafkaApi.topics(), kafkaApi.groups()]);
      if (!current()) return;
      this.#report(undefined);
      this.#body.replaceChildren(this.#overview(cluster, topics, groups));
    } catch (e) {
      if (!current()) return;
      this.#body.replaceChildren(route.kind === 'topic' ? h('a', { href: ROUTE, class: 'back' }, '← Topics') : '');
      this.#report(e);
    }
  }

  #report(e: unknown): void {
    this.#error.hidden = e === undefined;
    this.#error.textContent = e === undefined ? '' : withoutBidiControls(messageOf(e));
  }

  #overview(cluster: KafkaClusterInfo, topics: readonly KafkaTopicInfo[], groups: readonly KafkaGroupInfo[]): HTMLElement {
    const refresh = h('button', { type: 'button', 'data-action': 'refresh' }, 'Refresh');
    refresh.addEventListener('click', () => void this.show({ kind: 'overview' }));
    const create = h('button', { type: 'button', 'data-action': 'create-topic' }, 'New topic…');
    create.addEventListener('click', () => createTopicDialog((name) => (location.hash = topicHref(name))));

    const version = cluster.version === null ? 'version unknown' : `Kafka ${cluster.version}`;
    const brokers = table(
      'kafka-brokers',
      ['Broker', 'Host', 'Port', 'Rack', 'Role'],
      cluster.brokers.map((b) => [b.id, b.host, b.port, b.rack ?? '–', b.controller ? h('span', { class: 'badge ok' }, 'controller') : 'broker']),
      [0, 2],
    );
    const topicRows = table(
      'kafka-topics',
      ['Topic', 'Partitions', 'Replication', 'Messages', 'Size'],
      topics.map((t) => [h('span', {}, h('a', { href: topicHref(t.name), 'data-topic': t.name }, t.name), ' ', roleBadge(t.role)), t.partitions.length, t.replication, formatCount(t.messages), formatBytes(t.size_bytes)]),
      [1, 2, 3, 4],
    );
    const groupList = groups.length === 0 ? h('p', { class: 'muted empty' }, 'No consumer groups.') : h('div', { class: 'kafka-groups' }, ...groups.map(groupDetails));
    const topicsShown = h('span', { class: 'muted shown', 'data-shown': 'topics' });
    const groupsShown = h('span', { class: 'muted shown', 'data-shown': 'groups' });
    const filter = h('input', {
      type: 'search',
      class: 'kafka-filter',
      placeholder: 'Filter topics and groups',
      'aria-label': 'Filter topics and consumer groups by name',
      autocomplete: 'off',
      spellcheck: 'false',
      value: this.#filter,
    });
    // Rows and groups are hidden, not rebuilt, so an open group stays open while the filter changes.
    const apply = (): void => {
      this.#filter = filter.value;
      const wanted = this.#filter.trim().toLowerCase();
      const matches = (name: string): boolean => wanted === '' || name.toLowerCase().includes(wanted);
      let topicCount = 0;
      for (const link of topicRows.querySelectorAll<HTMLElement>('a[data-topic]')) {
        const shown = matches(link.dataset['topic'] ?? '');
        link.closest('tr')!.hidden = !shown;
        if (shown) topicCount++;
      }
      let groupCount = 0;
      for (const group of groupList.querySelectorAll<HTMLElement>('[data-group]')) {
        const shown = matches(group.dataset['group'] ?? '');
        group.hidden = !shown;
        if (shown) groupCount++;
      }
      topicsShown.textContent = wanted === '' ? '' : `${topicCount} of ${topics.length}`;
      groupsShown.textContent = wanted === '' ? '' : `${groupCount} of ${groups.length}`;
    };
    filter.addEventListener('input', apply);
    apply();

    return h(
      'div',
      { class: 'kafka-overview' },
      h('div', { class: 'kafka-head' }, h('h2', { class: 'kafka-title' }, 'Kafka'), h('span', { class: 'muted' }, `cluster ${cluster.cluster_id} · ${version}`), h('span', { class: 'spacer' }), filter, refresh, create),
      h('section', { class: 'panel kafka-panel', 'aria-label': 'Brokers' }, h('h2', {}, 'Brokers'), brokers),
      h('section', { class: 'panel kafka-panel', 'aria-label': 'Topics' }, h('h2', {}, 'Topics ', topicsShown), topicRows),
      h('section', { class: 'panel kafka-panel', 'aria-label': 'Consumer groups' }, h('h2', {}, 'Consumer groups ', groupsShown), groupList),
    );
  }
}

/** A partition whose committed offset is past its log end has no lag: the row says why instead of a lag of 0. */
function lagCell(p: KafkaGroupInfo['partitions'][number]): HTMLElement | string {
  if (!p.past_end) return formatCount(p.lag);
  return h(
    'span',
    { class: 'kafka-past-end', role: 'note' },
    `committed offset ${formatCount(p.committed)} is past the log end ${formatCount(p.end)}: the topic was deleted and made again, or records were removed; this group reads nothing of it until the log gets there or its offset is reset`,
  );
}

function groupDetails(g: KafkaGroupInfo): HTMLElement {
  const topics = [...new Set(g.partitions.map((p) => p.topic))].join(', ');
  const pastEnd = g.partitions.filter((p) => p.past_end).length;
  return h(
    'details',
    { class: 'kafka-group', 'data-group': g.group_id },
    h(
      'summary',
      {},
      h('strong', {}, g.group_id),
      h('span', { class: `badge ${g.state === 'STABLE' ? 'ok' : ''}` }, g.state.toLowerCase()),
      h('span', { class: 'muted' }, `${g.members.length} ${g.members.length === 1 ? 'member' : 'members'} · ${topics || 'no offsets'}`),
      h('span', { class: 'spacer' }),
      pastEnd > 0 && h('span', { class: 'badge bad kafka-past-end-count' }, `${pastEnd} ${pastEnd === 1 ? 'partition' : 'partitions'} past the log end`),
      h('span', { class: 'lag' }, `lag ${formatCount(g.lag)}`),
    ),
    table(
      'kafka-lag',
      ['Topic', 'Partition', 'Committed', 'End', 'Lag'],
      g.partitions.map((p) => [p.topic, p.partition, formatCount(p.committed), formatCount(p.end), lagCell(p)]),
      [1, 2, 3, 4],
    ),
  );
}

/** Reads `key=value` lines; a line without "=" is an error naming it. */
function parseConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`config line "${line}" is not key=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function createTopicDialog(created: (name: string) => void): void {
  const name = h('input', { name: 'name', type: 'text', required: true, maxlength: '249', pattern: '[A-Za-z0-9._\\-]+', autocomplete: 'off', spellcheck: 'false' });
  const partitions = h('input', { name: 'partitions', type: 'number', min: '1', step: '1', value: '3', required: true });
  const replication = h('input', { name: 'replication', type: 'number', min: '1', step: '1', placeholder: 'broker default' });
  const config = h('textarea', { name: 'config', rows: '3', placeholder: 'retention.ms=86400000', spellcheck: 'false' });
  const error = h('p', { class: 'kafka-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit' }, 'Create');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', {}, 'New topic'),
    h('label', {}, 'Name', name),
    h('label', {}, 'Partitions', partitions),
    h('label', {}, 'Replication', replication),
    h('label', {}, 'Config (key=value per line)', config),
    error,
    h('div', { class: 'kafka-actions' }, cancel, submit),
  );
  const dialog = h('dialog', { class: 'kafka-dialog', 'aria-label': 'New topic' }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let spec: NewTopic;
    try {
      spec = { name: name.value.trim(), partitions: Number(partitions.value), config: parseConfig(config.value) };
      if (replication.value !== '') spec.replication = Number(replication.value);
    } catch (e) {
      error.hidden = false;
      error.textContent = messageOf(e);
      return;
    }
    submit.disabled = true;
    kafkaApi.createTopic(spec).then(
      () => {
        dialog.close();
        created(spec.name);
      },
      (e: unknown) => {
        error.hidden = false;
        error.textContent = messageOf(e);
        submit.disabled = false;
      },
    );
  });
  document.body.append(dialog);
  dialog.showModal();
  name.focus();
}
