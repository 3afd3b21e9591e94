import { kafkaApi, type KafkaHeader, type KafkaMessage, type KafkaPartitionInfo, type KafkaTopicInfo, type MessageQuery } from './kafka-api.ts';
import { formatBytes, formatCount, formatTimestamp, h, table } from './kafka-dom.ts';

export const MESSAGE_LIMIT = { default: 20, max: 100 } as const;

export interface TopicViewHooks {
  /** Shows a failure in the console's error line; `undefined` clears it. */
  readonly report: (e: unknown) => void;
  /** After the topic was deleted. */
  readonly deleted: (name: string) => void;
  /** Whether this view is still the one on screen (a late answer must not draw over another view). */
  readonly current: () => boolean;
}

const ROLE_LABELS: Record<NonNullable<KafkaTopicInfo['role']>, [label: string, title: string]> = {
  trades: ['pipeline: trades', 'the trades topic of the pipeline this dashboard serves (kafka.topic)'],
  dead_letters: ['pipeline: dead letters', 'where the pipeline sends input that is no valid trade, with the reason'],
  late: ['pipeline: late trades', 'where the pipeline sends trades behind the watermark'],
};

/** A badge naming the part a topic plays in the pipeline; nothing for any other topic. */
export function roleBadge(role: KafkaTopicInfo['role']): HTMLElement | undefined {
  if (role === null) return undefined;
  const [label, title] = ROLE_LABELS[role];
  return h('span', { class: 'badge ok kafka-role', 'data-role': role, title }, label);
}

/** One topic: its partitions, a message browser and its config, with delete behind a dialog. */
export function topicView(topic: KafkaTopicInfo, hooks: TopicViewHooks): HTMLElement {
  const summary = h(
    'p',
    { class: 'kafka-summary' },
    `${topic.partitions.length} partitions · replication ${topic.replication} · ${formatCount(topic.messages)} messages · ${formatBytes(topic.size_bytes)} `,
    roleBadge(topic.role),
  );
  const deleteButton = h('button', { type: 'button', class: 'danger', 'data-action': 'delete-topic' }, 'Delete topic…');
  deleteButton.addEventListener('click', () => confirmDelete(topic, hooks));

  const partitions = table(
    'kafka-partitions',
    ['Partition', 'Leader', 'Replicas', 'ISR', 'Start offset', 'End offset', 'Messages'],
    topic.partitions.map((p) => [p.partition, p.leader, p.replicas.join(', '), p.isr.join(', '), formatCount(p.start_offset), formatCount(p.end_offset), formatCount(p.messages)]),
    [0, 1, 4, 5, 6],
  );

  const overrides = new Set(topic.config_overrides);
  const config = table(
    'kafka-config',
    ['Setting', 'Value'],
    Object.entries(topic.config).map(([k, v]) => [overrides.has(k) ? h('strong', { title: 'set on this topic' }, k) : k, v ?? '–']),
  );

  return h(
    'div',
    { class: 'kafka-topic' },
    h('div', { class: 'kafka-head' }, h('a', { href: '#/kafka', class: 'back' }, '← Topics'), h('h2', { class: 'kafka-title' }, topic.name), h('span', { class: 'spacer' }), deleteButton),
    summary,
    h('section', { class: 'panel kafka-panel', 'aria-label': 'Partitions' }, h('h2', {}, 'Partitions'), partitions),
    messageBrowser(topic, hooks),
    h('section', { class: 'panel kafka-panel', 'aria-label': 'Config' }, h('h2', {}, 'Config ', h('span', { class: 'muted' }, 'bold: set on this topic')), config),
  );
}

function messageBrowser(topic: KafkaTopicInfo, hooks: TopicViewHooks): HTMLElement {
  const partition = h('select', { name: 'partition', 'aria-label': 'Partition' }, ...topic.partitions.map((p) => h('option', { value: String(p.partition) }, `partition ${p.partition} (${formatCount(p.messages)})`)));
  // Open on a partition that has something to show.
  const busiest = [...topic.partitions].sort((a, b) => b.messages - a.messages)[0];
  if (busiest !== undefined) partition.value = String(busiest.partition);
  const from = h(
    'select',
    { name: 'from', 'aria-label': 'Start at' },
    h('option', { value: 'newest' }, 'newest'),
    h('option', { value: 'offset' }, 'from offset'),
    h('option', { value: 'timestamp' }, 'from time'),
  );
  const offset = h('input', { name: 'offset', type: 'number', min: '0', step: '1', placeholder: 'offset', 'aria-label': 'Offset', hidden: true });
  const time = h('input', { name: 'timestamp', type: 'datetime-local', step: '1', 'aria-label': 'Time', hidden: true });
  const limit = h('input', { name: 'limit', type: 'number', min: '1', max: String(MESSAGE_LIMIT.max), value: String(MESSAGE_LIMIT.default), 'aria-label': 'Messages' });
  const results = h('div', { class: 'kafka-messages', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'kafka-browse' },
    partition,
    from,
    offset,
    time,
    h('label', {}, 'show ', limit),
    h('button', { type: 'submit' }, 'Load'),
  );
  // The field of the start chosen is required: left empty, "from offset" showed the newest instead, without a word.
  from.addEventListener('change', () => {
    offset.hidden = from.value !== 'offset';
    time.hidden = from.value !== 'timestamp';
    offset.required = !offset.hidden;
    time.required = !time.hidden;
  });

  const load = async (): Promise<void> => {
    const q: MessageQuery = { partition: Number(partition.value), limit: clamp(Number(limit.value), 1, MESSAGE_LIMIT.max) };
    if (from.value === 'offset' && offset.value !== '') q.offset = Math.max(0, Math.trunc(Number(offset.value)));
    if (from.value === 'timestamp' && time.value !== '') q.timestamp = new Date(time.value).getTime();
    results.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
    try {
      const { messages, cutAtBytes } = await kafkaApi.messages(topic.name, q);
      // Nothing there: say why, from the partition's offsets now (the page's may be old).
      const now = messages.length === 0 ? await kafkaApi.topic(topic.name).catch(() => topic) : topic;
      if (!hooks.current()) return;
      const bounds = now.partitions.find((p) => p.partition === q.partition);
      results.replaceChildren(...messageResults(messages, q, bounds, cutAtBytes));
      hooks.report(undefined);
    } catch (e) {
      results.replaceChildren();
      hooks.report(e);
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load();
  return h('section', { class: 'panel kafka-panel', 'aria-label': 'Messages' }, h('h2', {}, 'Messages'), form, results);
}

function clamp(n: number, min: number, max: number): number {
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.trunc(n))) : min;
}

/**
 * The messages, or why there are none; a note when the first one shown is past the offset asked
 * for, and one when the page's byte budget left records out.
 */
function messageResults(messages: readonly KafkaMessage[], q: MessageQuery, bounds: KafkaPartitionInfo | undefined, cutAtBytes: number | null): HTMLElement[] {
  const note = (text: string, className = 'muted'): HTMLElement => h('p', { class: `${className} kafka-note` }, text);
  if (messages.length === 0) return [note(emptyReason(q, bounds), 'muted empty')];
  const first = messages[0]!.offset;
  const skipped =
    q.offset !== undefined && first > q.offset
      ? note(
          bounds !== undefined && q.offset < bounds.start_offset
            ? `Offsets before ${formatCount(bounds.start_offset)} are no longer in partition ${q.partition} (removed by retention or deleted); showing from ${formatCount(first)}.`
            : `No message at offsets ${formatCount(q.offset)} to ${formatCount(first - 1)} (compacted away, or transaction markers); showing from ${formatCount(first)}.`,
        )
      : undefined;
  const cut = cutAtBytes === null ? undefined : h('p', { class: 'kafka-warning kafka-note kafka-page-cut', role: 'note' }, pageCutNote(messages, q, cutAtBytes));
  return [skipped, cut, messageTable(messages)].filter((e): e is HTMLElement => e !== undefined);
}

/** Why a page holds fewer records than asked: its keys and values reached the byte budget. */
function pageCutNote(messages: readonly KafkaMessage[], q: MessageQuery, cutAtBytes: number): string {
  const shown = `${formatCount(messages.length)} ${messages.length === 1 ? 'message' : 'messages'}`;
  const budget = `a page holds at most ${formatBytes(cutAtBytes)} of keys and values`;
  if (q.offset === undefined && q.timestamp === undefined) {
    return `Showing the newest ${shown} of the ${formatCount(q.limit)} asked for: ${budget}, and older ones did not fit. Browse from an offset to see them.`;
  }
  const last = messages[messages.length - 1]!.offset;
  return `This page stops after offset ${formatCount(last)}, with ${shown} of the ${formatCount(q.limit)} asked for: ${budget}. Browse from offset ${formatCount(last + 1)} for the next ones.`;
}

function emptyReason(q: MessageQuery, bounds: KafkaPartitionInfo | undefined): string {
  const where = `partition ${q.partition}`;
  if (bounds === undefined) return `No messages in ${where}.`;
  const start = bounds.start_offset;
  const end = bounds.end_offset;
  if (end <= start) return `Partition ${q.partition} holds no messages${end > 0 ? ` (its ${formatCount(end)} earlier ones were removed)` : ''}.`;
  const range = `its offsets run from ${formatCount(start)} to ${formatCount(end - 1)}`;
  if (q.offset !== undefined && q.offset >= end) return `No messages from offset ${formatCount(q.offset)}: it is past the end of ${where}; ${range}.`;
  if (q.timestamp !== undefined) return `No messages at or after ${formatTimestamp(q.timestamp)} in ${where}: its newest message is older (${range}).`;
  return `No messages there (${range}).`;
}

function messageTable(messages: readonly KafkaMessage[]): HTMLElement {
  return table(
    'kafka-message-table',
    ['Offset', 'Timestamp', 'Key', 'Headers', 'Value'],
    messages.map((m) => [
      formatCount(m.offset),
      formatTimestamp(m.timestamp),
      m.key === null ? h('span', { class: 'muted' }, 'null') : encoded(m.key, m.key_format ?? 'text', 'kafka-key'),
      m.headers.length === 0 ? '' : h('div', { class: 'kafka-headers' }, ...m.headers.map(headerLine)),
      h('div', { class: 'kafka-value' }, h('span', { class: `format format-${m.value_format}` }, m.value_format), h('pre', {}, valueText(m))),
    ]),
    [0],
  );
}

/** Text as it is; bytes that are no UTF-8 text as base64, marked so ("AQI=" the text is not "AQI=" the bytes 01 02). */
function encoded(text: string, format: 'text' | 'binary', className: string): HTMLElement {
  if (format === 'text') return h('span', { class: `mono ${className}` }, text);
  return h('span', { class: `mono muted ${className}`, title: 'bytes that are no UTF-8 text, shown as base64' }, h('span', { class: 'format' }, 'base64'), ' ', text);
}

function headerLine(x: KafkaHeader): HTMLElement {
  return h(
    'div',
    { class: 'kafka-header' },
    encoded(x.key, x.key_format, 'kafka-header-key'),
    h('span', { class: 'muted' }, ': '),
    x.value === null ? h('span', { class: 'muted' }, 'null') : encoded(x.value, x.value_format ?? 'text', 'kafka-header-value'),
  );
}

function valueText(m: KafkaMessage): string {
  if (m.value === null) return 'null';
  if (m.value_format === 'avro' || m.value_format === 'json') return JSON.stringify(m.value, null, 2);
  return String(m.value);
}

/** What deleting a topic of the pipeline does to the processes that use it; nothing for any other topic. */
function pipelineNote(role: KafkaTopicInfo['role']): HTMLElement | undefined {
  const note = (text: string): HTMLElement => h('p', { class: 'kafka-warning', role: 'note' }, text);
  switch (role) {
    case 'trades':
      return note(
        'This is the topic of the pipeline. A running engine waits while it is gone (its status line says TOPIC … MISSING), and stops once it is created again: it reads the new topic only under a new consumer group (--kafka-group-id). A running producer keeps its trades in its spool until the topic exists again.',
      );
    case 'dead_letters':
    case 'late':
      return note(`The pipeline writes to this topic: until it exists again, each process keeps its entries in unsent/ under its data dir, and sends them once it does.`);
    default:
      return undefined;
  }
}

/** Delete behind a dialog that only enables the button once the name is typed exactly; a topic of the pipeline says what its loss stops. */
function confirmDelete(topic: KafkaTopicInfo, hooks: TopicViewHooks): void {
  const name = topic.name;
  const input = h('input', { type: 'text', name: 'confirm', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Topic name' });
  const go = h('button', { type: 'submit', class: 'danger', disabled: true }, 'Delete');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const error = h('p', { class: 'kafka-error', role: 'alert', hidden: true });
  const dialog = h(
    'dialog',
    { class: 'kafka-dialog', 'aria-label': `Delete ${name}` },
    h(
      'form',
      { method: 'dialog' },
      h('h2', {}, 'Delete topic'),
      h('p', {}, 'This deletes ', h('strong', {}, name), ' and every message in it. Type its name to confirm.'),
      pipelineNote(topic.role),
      input,
      error,
      h('div', { class: 'kafka-actions' }, cancel, go),
    ),
  );
  input.addEventListener('input', () => (go.disabled = input.value !== name));
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  dialog.querySelector('form')!.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value !== name) return;
    go.disabled = true;
    kafkaApi.deleteTopic(name).then(
      () => {
        dialog.close();
        hooks.deleted(name);
      },
      (e: unknown) => {
        error.hidden = false;
        error.textContent = e instanceof Error ? e.message : String(e);
        go.disabled = false;
      },
    );
  });
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}
