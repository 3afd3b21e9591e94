export { ALL_ROLES, startPipeline, startRoles, type Pipeline, type PipelineOptions, type Roles, type RoleSet } from './pipeline.ts';
export { Processor, type ProcessorOptions, type LateEntry } from './processor.ts';
export { statusLine } from './status-line.ts';
export { createStore, openStore, storeKindOf, type ConfiguredStore } from './store-factory.ts';
export { listening } from './start-checks.ts';
export { sideLogPlaces, type SideLogPlaces } from './transport.ts';
