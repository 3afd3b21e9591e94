import { envName, flagOf, type Config } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { FinnhubClient, ReplaySource, SimulatorServer } from '../source/index.ts';
import type { TradeSource as TradeSourceName } from '../domain/index.ts';
import type { TradeSource } from '../source/source.ts';
import { listening } from './start-checks.ts';

export interface OpenedSource {
  readonly source: TradeSource;
  /** Set when the built-in simulator serves the feed. */
  readonly simulatorUrl: string | undefined;
  dropConnections(): void;
  close(): Promise<void>;
}

/** The source the config names; `auto` is the simulator here (the config has already chosen Finnhub when a token is set). */
export function sourceKindOf(config: Config): TradeSourceName {
  return config.source === 'auto' ? 'simulator' : config.source;
}

/**
 * The source of the config: Finnhub, the built-in simulator (served over the Finnhub
 * protocol, so the client code path is the same), or a replay file.
 */
export async function openSource(config: Config, deps: { logger: Logger }): Promise<OpenedSource> {
  const kind = sourceKindOf(config);
  switch (kind) {
    case 'simulator': {
      const simulator = new SimulatorServer({
        host: config.simulator.host,
        port: config.simulator.port,
        rate: config.simulator.rate,
        seed: config.simulator.seed,
        disorderMs: config.simulator.disorder,
        batch: config.simulator.batch,
        symbols: config.symbols,
        logger: deps.logger.child('simulator'),
      });
      // simulator.host has no flag beside the HTTP server's --host: only the environment or the file sets it.
      const { host, port } = config.simulator;
      await listening('the simulator', host, port, flagOf('simulator.port'), () => simulator.start(), envName('simulator.host'));
      const client = new FinnhubClient({
        url: simulator.url,
        symbols: config.symbols,
        source: 'simulator',
        logger: deps.logger,
      });
      return {
        source: client,
        simulatorUrl: simulator.url,
        dropConnections: () => simulator.dropConnections(),
        close: async () => {
          await client.close();
          await simulator.close();
        },
      };
    }
    case 'finnhub': {
      const client = new FinnhubClient({
        url: config.finnhub.url,
        ...(config.finnhub.token === undefined ? {} : { token: config.finnhub.token }),
        symbols: config.symbols,
        source: 'finnhub',
        logger: deps.logger,
      });
      return { source: client, simulatorUrl: undefined, dropConnections: () => {}, close: () => client.close() };
    }
    case 'replay': {
      const source = new ReplaySource({ file: config.replay.file ?? '', speed: config.replay.speed, logger: deps.logger });
      return { source, simulatorUrl: undefined, dropConnections: () => {}, close: () => source.close() };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown source ${String(never)}`);
    }
  }
}
