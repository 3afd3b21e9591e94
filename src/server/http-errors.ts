import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../observability/index.ts';
import { BadRequest } from './query-params.ts';

/** The JSON body of every error answer: a stable code and a sentence for people. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
}

/**
 * The answer to an error a route's handler did not map itself: a BadRequest is a 400 naming
 * the parameter, fastify's own 4xx get clientErrorBody, anything else is a 500 logged as `failed`.
 */
export function replyError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, log: Logger, failed: string): FastifyReply {
  if (error instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', message: error.message } satisfies ErrorBody);
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status >= 500) {
    log.error(failed, { url: request.url, error: error.message });
    return reply.code(500).send({ error: 'internal', message: 'internal server error' } satisfies ErrorBody);
  }
  return reply.code(status).send(clientErrorBody(status, error, request));
}

/** fastify's own 4xx errors, as codes of ours and messages that say what to change. */
function clientErrorBody(status: number, error: FastifyError, request: FastifyRequest): ErrorBody {
  switch (status) {
    case 403:
      // The static files' refusal of a path with a `..`, a `//` or a NUL, or spelt otherwise than the file.
      return { error: 'forbidden', message: `${pathOf(request.url)} is refused: ask for a file by its plain path, without .., // or a NUL` };
    case 404:
      return { error: 'not_found', message: error.message };
    case 413:
      return { error: 'payload_too_large', message: `the body is larger than the ${request.server.initialConfig.bodyLimit ?? 0} bytes this server takes` };
    case 416:
      return { error: 'range_not_satisfiable', message: `the Range ${JSON.stringify(request.headers.range ?? '')} is not within the file` };
    case 415:
      return { error: 'unsupported_media_type', message: `send the body as application/json; got content-type ${JSON.stringify(request.headers['content-type'] ?? '')}` };
    default:
      return { error: 'bad_request', message: badRequestMessage(error) };
  }
}

function badRequestMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'the body is empty but content-type is application/json';
  return error.message;
}

/**
 * A JSON body parser whose errors say what is wrong: the parser's own message for broken
 * JSON, and the key for a `__proto__` or `constructor.prototype`, which could reach
 * Object.prototype and are refused.
 */
export function parseJsonBody(_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    done(new BadRequest('body', `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`));
    return;
  }
  const key = forbiddenKey(value);
  if (key !== undefined) done(new BadRequest('body', `the body has a ${key} key, which is refused`));
  else done(null, value);
}

function forbiddenKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key === '__proto__') return '__proto__';
    if (key === 'constructor' && typeof inner === 'object' && inner !== null && Object.hasOwn(inner, 'prototype')) return 'constructor.prototype';
    const found = forbiddenKey(inner);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Errors fastify meets before any route runs (a URL it cannot decode, a parameter over the length cap). */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_BAD_URL' ? `the URL ${JSON.stringify(request.url)} is not valid: a % escape does not decode` : error.message;
  void reply.code(400).send({ error: 'bad_request', message } satisfies ErrorBody);
}

/** Errors of the HTTP parser, before fastify has a request (a header block too large, a malformed request line). */
export function clientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body]: [number, ErrorBody] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, { error: 'headers_too_large', message: 'the request headers are larger than this server takes' }]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, { error: 'timeout', message: 'the request did not arrive in time' }]
        : [400, { error: 'bad_request', message: 'the request is not valid HTTP' }];
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy(error);
}

/**
 * The methods each route answers, collected as routes are added, so that a request with
 * another method gets 405 and an Allow header instead of 404. Install before the routes.
 */
export function routeMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    // Wildcards (the dashboard's static files) would claim every path.
    if ((route.url ?? route.path).includes('*')) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    routes.push({ pattern: patternOf(route.url ?? route.path), methods });
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    return [...allowed].sort();
  };
}

/** A route URL (`/api/kafka/topics/:name`, `/*`) as a regular expression over a request path. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

export function pathOf(url: string): string {
  return url.split('?')[0] ?? '';
}
