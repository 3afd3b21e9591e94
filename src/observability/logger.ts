import type { LogLevel } from '../config/schema.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly component?: string;
  /** Where lines go; stderr by default, so that stdout stays for command output. */
  readonly write?: (line: string) => void;
}

/** One human-readable line per event: `12:00:01.123 INFO  engine  flushed  bars=12`. Never log per trade at info. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const threshold = ORDER[options.level];
  const make = (component: string): Logger => {
    const log = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
      if (ORDER[level] < threshold) return;
      const time = new Date().toISOString().slice(11, 23);
      let line = `${time} ${level.toUpperCase().padEnd(5)} ${component.padEnd(9)} ${message}`;
      if (fields) {
        for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
      }
      write(line);
    };
    return {
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      child: (c) => make(c),
    };
  };
  return make(options.component ?? 'tickstream');
}

function formatValue(v: string | number | boolean | null): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return String(v);
}

export const silentLogger: Logger = createLogger({ level: 'silent' });
