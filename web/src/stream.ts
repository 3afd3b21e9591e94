import type { BarRecord, HelloWire, StatsWire, StreamState, TradeWire } from './api.ts';

export type { StreamState };

export interface StreamHandlers {
  hello(h: HelloWire): void;
  bars(bars: BarRecord[]): void;
  trades(trades: TradeWire[]): void;
  stats(s: StatsWire): void;
  state(s: StreamState): void;
  /** A frame that could not be parsed; counted and shown, never thrown. */
  malformed(event: string): void;
}

/**
 * The live push (GET /api/stream, Server-Sent Events). EventSource reconnects by itself;
 * this only maps its events to typed handlers and reports the connection state.
 */
export class LiveStream {
  readonly #source: EventSource;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #replacement: LiveStream | undefined;

  constructor(url: string, handlers: StreamHandlers) {
    const source = new EventSource(url);
    this.#source = source;
    handlers.state('connecting');
    source.addEventListener('open', () => handlers.state('open'));
    source.addEventListener('error', () => {
      handlers.state('reconnecting');
      // A closed EventSource (e.g. the server answered with an error status) never retries by itself.
      if (source.readyState === EventSource.CLOSED) this.#restart(url, handlers);
    });
    const on = <T>(name: string, deliver: (value: T) => void): void => {
      source.addEventListener(name, (e) => {
        let value: T;
        try {
          value = JSON.parse((e as MessageEvent<string>).data) as T;
        } catch {
          handlers.malformed(name);
          return;
        }
        deliver(value);
      });
    };
    on<HelloWire>('hello', (h) => handlers.hello(h));
    on<BarRecord[]>('bars', (b) => handlers.bars(b));
    on<TradeWire[]>('trades', (t) => handlers.trades(t));
    on<StatsWire>('stats', (s) => handlers.stats(s));
  }

  #restart(url: string, handlers: StreamHandlers): void {
    this.#restartTimer = setTimeout(() => {
      this.#replacement = new LiveStream(url, handlers);
    }, 2000);
  }

  close(): void {
    clearTimeout(this.#restartTimer);
    this.#source.close();
    this.#replacement?.close();
  }
}
