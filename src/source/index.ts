export * from './source.ts';
export { FinnhubClient, type FinnhubClientOptions } from './finnhub/finnhub-client.ts';
export { parseFinnhubFrame, type ParsedFrame, type FinnhubTrade } from './finnhub/finnhub-protocol.ts';
export { Backoff, type BackoffOptions } from './finnhub/backoff.ts';
