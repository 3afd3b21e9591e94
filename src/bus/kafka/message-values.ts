import type { KafkaValueFormat } from './kafka-console-wire.ts';

const DECODER = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are UTF-8 without control characters (other than whitespace). */
export function utf8(bytes: Buffer): string | undefined {
  try {
    const text = DECODER.decode(bytes);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what marks bytes as binary
    return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

export function textOrBase64(bytes: Buffer): { text: string; format: 'text' | 'binary' } {
  const text = utf8(bytes);
  return text === undefined ? { text: bytes.toString('base64'), format: 'binary' } : { text, format: 'text' };
}

/**
 * A record value that is not a trade, as the message browser shows it: a tombstone as null,
 * JSON parsed, other UTF-8 as text, anything else as base64. JSON whose numbers JavaScript
 * cannot hold exactly (an int64 id above 2^53, say) is shown as its text, so no digit changes.
 */
export function plainValue(bytes: Buffer | null): { value_format: KafkaValueFormat; value: unknown } {
  if (bytes === null) return { value_format: 'null', value: null };
  const text = utf8(bytes);
  if (text === undefined) return { value_format: 'binary', value: bytes.toString('base64') };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { value_format: 'text', value: text };
  }
  return hasInexactNumber(text) ? { value_format: 'text', value: text } : { value_format: 'json', value };
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Whether valid JSON text holds a number literal that a double does not keep digit for digit. */
export function hasInexactNumber(json: string): boolean {
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== '-' && (c < '0' || c > '9')) continue;
    NUMBER.lastIndex = i;
    const token = NUMBER.exec(json)?.[0] ?? c;
    if (!exact(token)) return true;
    i += token.length - 1;
  }
  return false;
}

/** An integer literal must be a safe integer; a decimal must have at most 15 significant digits (what a double always keeps). */
function exact(token: string): boolean {
  if (/^-?\d+$/.test(token)) return Number.isSafeInteger(Number(token)) || /^-?0+$/.test(token);
  const digits = (token.replace(/[eE].*$/, '').replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '') || '0').length;
  return digits <= 15;
}
