export type { EngineOptions, FlushResult, PartitionState } from './partition-state.ts';
export { applyTrade, flushPartition, newPartitionState } from './partition-state.ts';
export { watermarkOf } from './watermark.ts';
export { deserializePartitionState, readCheckpoint, serializePartitionState } from './checkpoint.ts';
export { batchBars } from './batch.ts';
