/**
 * METRICS_PORT: `/healthz` (200 while the gateway is connected, else 503; in redis mode it also says how many GPU
 * workers are connected) and Prometheus `/metrics`.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A running metrics server. */
export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves health and metrics on host:port (port 0 picks a free one). */
export async function startHealthServer(options: {
  host: string;
  port: number;
  registry: Registry;
  healthy: () => boolean;
  workers?: () => number;
}): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/healthz') {
      const ok = options.healthy();
      response
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...(options.workers ? { workers: options.workers() } : {}) }));
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
