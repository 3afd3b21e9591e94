import { SparkError } from '../errors.ts';

export interface SparkConnectTarget {
  /** `host:port` for gRPC. */
  readonly address: string;
  readonly useSsl: boolean;
  readonly token?: string;
  readonly userId?: string;
  readonly sessionId?: string;
  readonly userAgent?: string;
  /** Parameters Spark does not reserve travel as plain gRPC headers. */
  readonly headers: Readonly<Record<string, string>>;
}

export const DEFAULT_SPARK_CONNECT_PORT = 15002;

/**
 * Parses a Spark Connect connection string: `sc://host[:port][/;key=value;...]`, the format
 * every Spark Connect client accepts. Reserved keys: token, user_id, session_id, use_ssl, user_agent.
 */
export function parseConnectionString(url: string): SparkConnectTarget {
  const match = /^sc:\/\/(\[[^\]]+\]|[^:/;]+)(?::(\d+))?\/?(.*)$/.exec(url);
  if (!match) throw new SparkError(`invalid Spark Connect URL ${JSON.stringify(url)}: expected sc://host[:port][/;key=value...]`);
  const [, host = '', portText, rest = ''] = match;
  const port = portText === undefined ? DEFAULT_SPARK_CONNECT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SparkError(`invalid Spark Connect URL ${JSON.stringify(url)}: port must be 1-65535`);
  }
  const params: Record<string, string> = {};
  for (const part of rest.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SparkError(`invalid Spark Connect URL parameter ${JSON.stringify(part)}: expected key=value`);
    params[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
  }
  const { token, user_id: userId, session_id: sessionId, use_ssl: useSsl, user_agent: userAgent, ...headers } = params;
  return {
    address: `${host}:${port}`,
    useSsl: useSsl === 'true',
    headers,
    ...(token === undefined ? {} : { token }),
    ...(userId === undefined ? {} : { userId }),
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(userAgent === undefined ? {} : { userAgent }),
  };
}
