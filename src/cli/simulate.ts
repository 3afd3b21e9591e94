import { Command, Option } from 'commander';
import { COMMAND_FLAGS, CONFIG_FIELDS, flagOf, type ConfigKey } from '../config/index.ts';
import { addConfigOptions, configFromOptions } from './config-options.ts';
import { untilSignal } from './signals.ts';

/** Short flags of this command → the config keys they set (so env and file values apply too). */
const FLAGS = Object.entries(COMMAND_FLAGS['simulate'] ?? {});

const KEYS: readonly ConfigKey[] = ['logLevel'];

/** Where a flag means something else here than in the pipeline (which subscribes to `symbols`). */
export const SIMULATE_DESCRIPTIONS: Partial<Record<ConfigKey, string>> = {
  symbols: 'symbols the market trades, as Finnhub names them; a client may subscribe to others too',
};

export function simulateCommand(): Command {
  const cmd = new Command('simulate')
    .description('serve a simulated market over the Finnhub WebSocket protocol, on its own')
    .addHelpText(
      'after',
      `
Any Finnhub client can connect to it; tickstream does with --source finnhub
--finnhub-url <url>, which needs a FINNHUB_TOKEN: the simulator takes any.

Examples:
  tickstream simulate
  tickstream simulate --port 9001 --rate 5000 --seed 7 --symbols AAPL,BINANCE:BTCUSDT
  FINNHUB_TOKEN=any tickstream run --source finnhub --finnhub-url ws://127.0.0.1:9001`,
    );
  for (const [flag, key] of FLAGS) {
    const field = CONFIG_FIELDS[key];
    const shown = (field.show as (v: unknown) => string)(field.default);
    cmd.addOption(new Option(`--${flag} <value>`, `${SIMULATE_DESCRIPTIONS[key] ?? field.description} (default: ${shown})`));
  }
  addConfigOptions(cmd, KEYS).action(async (options: Record<string, unknown>) => {
    const overrides: Partial<Record<ConfigKey, string>> = {};
    for (const [flag, key] of FLAGS) {
      const value = options[flag];
      if (typeof value === 'string') overrides[key] = value;
    }
    const config = configFromOptions(options, KEYS, overrides, 'simulate');
    // Loaded here, not at the top: --help and --version need none of them.
    const [{ listening }, { counted, createLogger }, { SimulatorServer }] = await Promise.all([
      import('../app/start-checks.ts'),
      import('../observability/index.ts'),
      import('../source/index.ts'),
    ]);
    const logger = createLogger({ level: config.logLevel });
    const { simulator: s } = config;
    const simulator = new SimulatorServer({
      host: s.host,
      port: s.port,
      rate: s.rate,
      seed: s.seed,
      disorderMs: s.disorder,
      batch: s.batch,
      symbols: config.symbols,
      logger: logger.child('simulator'),
    });
    await listening('the simulator', s.host, s.port, flagOf('simulator.port', 'simulate'), () => simulator.start(), flagOf('simulator.host', 'simulate'));
    const rate = s.rate === 0 ? 'as fast as clients read' : `${s.rate} trades/s`;
    process.stdout.write(`simulator listening on ${simulator.url} · ${rate} · seed ${s.seed} · ${counted(config.symbols.length, 'symbol')}\n`);
    const signal = await untilSignal();
    logger.info('stopping', { signal });
    await simulator.close();
  });
  return cmd;
}
