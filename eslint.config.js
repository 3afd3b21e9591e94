// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Data flows one way: source → bus → engine → store → server. These rules keep the layers honest. */
const layer = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message })) }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', '.tickstream/**', 'deploy/grafana/dashboards/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-throw-literal': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  layer(['src/domain/**'], ['../*', '!./*'], 'domain/ imports nothing of ours'),
  layer(['src/engine/**'], ['../source/*', '../bus/*', '../store/*', '../server/*', '../app/*', '../cli/*', '../stack/*', '../spark/*', '../config/*', 'node:fs', 'node:net', 'node:http', 'better-sqlite3', 'ws'], 'engine/ is pure: domain/, errors.ts and observability/ only'),
  layer(['src/source/**'], ['../bus/*', '../../bus/*', '../engine/*', '../../engine/*', '../store/*', '../../store/*', '../server/*', '../../server/*', '../app/*', '../../app/*'], 'a source knows nothing of later stages'),
  layer(['src/bus/**'], ['../engine/*', '../../engine/*', '../store/*', '../../store/*', '../server/*', '../../server/*', '../app/*', '../../app/*'], 'the bus knows nothing of later stages'),
  layer(['src/store/**'], ['../source/*', '../../source/*', '../bus/*', '../../bus/*', '../server/*', '../../server/*', '../app/*', '../../app/*'], 'the store knows nothing of other stages'),
  layer(['src/server/**'], ['../app/*', '../cli/*', '../source/*/*', '../bus/*/*', '../store/*/*'], 'the server talks to stages through their interfaces'),
);
