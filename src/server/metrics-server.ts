import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createMetrics, type MetricsSources } from './metrics.ts';

export interface MetricsServerOptions extends Omit<MetricsSources, 'streamClients'> {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * A listener that serves only GET /metrics (and GET /healthz), for the roles that have no
 * HTTP server of their own (produce, process), so Prometheus can scrape every role alike.
 */
export async function createMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port, ...sources } = options;
  const registry = createMetrics({ ...sources, streamClients: () => 0 });
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET is served here\n');
      return;
    }
    if (path === '/healthz') {
      const stopped = sources.stats.engineStopped;
      if (stopped === undefined) response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else response.writeHead(503, { 'content-type': 'text/plain' }).end(`engine stopped: ${stopped}\n`);
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: this listener serves /metrics only\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/metrics`,
    port: bound,
    registry,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
