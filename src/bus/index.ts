export * from './bus.ts';
export { MemoryLog, type MemoryLogOptions } from './memory/memory-log.ts';
export { FileSideLog } from './memory/file-side-log.ts';
export * from './kafka/index.ts';
