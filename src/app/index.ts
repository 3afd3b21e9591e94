export { startPipeline, type Pipeline, type PipelineOptions } from './pipeline.ts';
export { Processor, type ProcessorOptions, type LateEntry } from './processor.ts';
export { statusLine } from './status-line.ts';
