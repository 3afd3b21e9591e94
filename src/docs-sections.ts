import { configReferenceMarkdown } from './config/index.ts';
import { ERROR_CODES } from './errors.ts';

/** The README sections generated from code, by marker name. `npm run docs` rewrites them; a test checks them. */
export function generatedSections(): Record<string, string> {
  const errors = [
    '| code | meaning |',
    '|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`),
  ].join('\n');
  return { config: configReferenceMarkdown(), errors };
}

export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(generatedSections())) {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    out = out.replace(re, `$1\n${body}\n$2`);
  }
  return out;
}
