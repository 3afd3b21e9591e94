export * from './schema.ts';
export { loadConfig, redactConfig, flagName, envName, CONFIG_KEYS, CONFIG_FILE, configValue, type ConfigInputs } from './load.ts';
export { FIELDS as CONFIG_FIELDS } from './schema.ts';
export { configReferenceMarkdown } from './reference.ts';
