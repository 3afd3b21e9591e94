import type { Command } from 'commander';
import { roleCommand } from './role-command.ts';

export function produceCommand(): Command {
  return roleCommand(
    'produce',
    'the producer role: source (Finnhub, simulator or replay) → the Kafka trades topic (market.trades) (cluster profile)',
    { produce: true, process: false, serve: false },
    '  tickstream produce --profile cluster --kafka-brokers 127.0.0.1:9092\n  FINNHUB_TOKEN=... tickstream produce --profile cluster --symbols BINANCE:BTCUSDT',
  );
}
