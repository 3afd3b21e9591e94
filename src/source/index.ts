export * from './source.ts';
export { FinnhubClient, type FinnhubClientOptions } from './finnhub/finnhub-client.ts';
export { parseFinnhubFrame, type ParsedFrame, type FinnhubTrade } from './finnhub/finnhub-protocol.ts';
export { Backoff, type BackoffOptions } from './finnhub/backoff.ts';
export { SimulatorServer, type SimulatorOptions } from './simulator/simulator-server.ts';
export { SimulatedMarket, type MarketOptions } from './simulator/market.ts';
export { ReplaySource, STDIN, type ReplayOptions } from './replay/replay-source.ts';
export { parseReplayLine, type ReplayLine } from './replay/replay-line.ts';
