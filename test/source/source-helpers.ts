import type { TestContext } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Trade } from '../../src/domain/index.ts';
import { FinnhubClient, SimulatorServer, type FinnhubClientOptions, type SimulatorOptions } from '../../src/source/index.ts';
import type { DeadLetter, SourceStatus, TradeSink } from '../../src/source/source.ts';

export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Collector {
  readonly trades: Trade[];
  readonly letters: DeadLetter[];
  readonly statuses: SourceStatus[];
  readonly sink: TradeSink;
}

/** A sink that keeps everything; `slow` makes each delivery wait, like a busy consumer. */
export function collector(options: { slowMs?: number } = {}): Collector & { maxInFlight: () => number } {
  const trades: Trade[] = [];
  const letters: DeadLetter[] = [];
  const statuses: SourceStatus[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    trades,
    letters,
    statuses,
    maxInFlight: () => maxInFlight,
    sink: {
      trades: async (batch) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (options.slowMs !== undefined) await new Promise((r) => setTimeout(r, options.slowMs));
        trades.push(...batch);
        inFlight--;
      },
      invalid: (batch) => {
        letters.push(...batch);
      },
      status: (s) => statuses.push(s),
    },
  };
}

export async function startSimulator(t: TestContext, options: Partial<SimulatorOptions> = {}): Promise<SimulatorServer> {
  const simulator = new SimulatorServer({
    host: '127.0.0.1',
    port: 0,
    rate: 0,
    seed: 7,
    disorderMs: 250,
    batch: 50,
    symbols: ['AAPL', 'MSFT', 'TSLA', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'],
    ...options,
  });
  t.after(() => simulator.close());
  await simulator.start();
  return simulator;
}

export async function startClient(t: TestContext, sink: TradeSink, options: Partial<FinnhubClientOptions> & { url: string }): Promise<FinnhubClient> {
  const client = new FinnhubClient({ symbols: ['AAPL'], source: 'simulator', backoff: { initialMs: 20, maxMs: 200 }, ...options });
  t.after(() => client.close());
  await client.start(sink);
  return client;
}

/** A bare WebSocket server that records what clients send, for protocol-level assertions. */
export async function recordingServer(t: TestContext): Promise<{ url: string; messages: string[]; requestUrls: string[]; sockets: WebSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const messages: string[] = [];
  const requestUrls: string[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws, request) => {
    sockets.push(ws);
    requestUrls.push(request.url ?? '');
    ws.on('message', (data) => messages.push(data.toString()));
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close(() => resolve());
      }),
  );
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}`, messages, requestUrls, sockets };
}
