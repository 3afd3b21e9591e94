/** The topics of DESIGN.md. A module of its own, with no imports, so the dashboard can name them too. */
export const TOPICS = {
  trades: 'market.trades',
  deadLetters: 'market.trades.dlq',
  late: 'market.trades.late',
} as const;
