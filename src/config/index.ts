export * from './schema.ts';
export { loadConfig, envName, CONFIG_KEYS, CONFIG_FILE, type ConfigInputs } from './load.ts';
export { flagName, flagOf, COMMAND_FLAGS } from './command-flags.ts';
export { redactConfig, maskUrl, shownConfig } from './redact.ts';
export { FIELDS as CONFIG_FIELDS } from './schema.ts';
export { configReferenceMarkdown, type CommandFlags } from './reference.ts';
export { parseDecimal, parseInteger } from './field.ts';
