/**
 * One node:http server on 127.0.0.1 for everything: `/api/v10/...` REST, `/attachments/...` files and the
 * gateway websocket (upgrade on any path).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeGateway } from './gateway.js';
import { BodyParseError, parseBody, type UploadedFile } from './multipart.js';
import { handleRest, type RestContext } from './rest-routes.js';
import type { FakeState } from './state.js';

export interface RecordedRequest {
  method: string;
  /** decoded path without `/api/v10`, e.g. `/webhooks/123/abc/messages/@original` */
  path: string;
  /** the query string, decoded (e.g. `{ wait: 'true' }`) */
  query: Record<string, string>;
  auth: string | undefined;
  /** the JSON body, or multipart `payload_json` */
  json: unknown;
  files: UploadedFile[];
  /** arrival time (Date.now()) */
  at: number;
  /** the status the fake answered */
  status: number;
  /** the JSON the fake answered (undefined for 204) */
  response: unknown;
}

export interface Download {
  path: string;
  status: number;
  at: number;
}

export interface HttpHooks {
  state: FakeState;
  gateway: FakeGateway;
  rest: () => RestContext;
  record: (request: RecordedRequest) => void;
  download: (download: Download) => void;
}

export class FakeHttpServer {
  readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly hooks: HttpHooks) {
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          sendJson(res, 500, { message: `fake discord internal error: ${String(error)}`, code: 0 });
        } else {
          res.destroy();
        }
      });
    });
    this.server.on('upgrade', (req, socket, head) => hooks.gateway.handleUpgrade(req, socket, head));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);
    if (url.pathname.startsWith('/attachments/')) {
      this.serveFile(req, res, url.pathname.slice('/attachments/'.length), at, url.searchParams);
      return;
    }
    const apiMatch = /^\/api(?:\/v\d+)?(\/.*)$/.exec(url.pathname);
    if (apiMatch?.[1] === undefined) {
      sendJson(res, 404, { message: '404: Not Found', code: 0 });
      return;
    }
    const path = decodePath(apiMatch[1]);
    const method = (req.method ?? 'GET').toUpperCase();
    const auth = req.headers.authorization;
    const query = Object.fromEntries(url.searchParams.entries());
    let json: unknown;
    let files: UploadedFile[] = [];
    let status: number;
    let response: unknown;
    try {
      ({ json, files } = await parseBody(req.headers['content-type'], body));
      const injected = this.takeFailure(method, path);
      if (injected !== undefined) {
        ({ status, body: response } = injected);
        for (const [name, value] of Object.entries(injected.headers)) res.setHeader(name, value);
      } else {
        ({ status, body: response } = handleRest(this.hooks.rest(), {
          method,
          path,
          query: url.searchParams,
          auth,
          json,
          files,
          now: Date.now(),
        }));
      }
    } catch (error) {
      if (!(error instanceof BodyParseError)) throw error;
      status = 400;
      response = { message: error.message, code: 50109 };
    }
    this.hooks.record({ method, path, query, auth, json, files, at, status, response });
    if (response === undefined) {
      res.writeHead(status);
      res.end();
    } else {
      sendJson(res, status, response);
    }
  }

  private takeFailure(method: string, path: string) {
    const failures = this.hooks.state.failures;
    const index = failures.findIndex((failure) => failure.match({ method, path }));
    const failure = failures[index];
    if (failure === undefined) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) failures.splice(index, 1);
    return failure;
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, encodedKey: string, at: number, query: URLSearchParams): void {
    const key = decodePath(encodedKey);
    // An expired signed link answers 404 as Discord's CDN does ("This content is no longer available.").
    const file = this.hooks.state.linkIsLive(query) ? this.hooks.state.files.get(key) : undefined;
    const status = file?.status ?? 404;
    this.hooks.download({ path: `/attachments/${key}`, status, at });
    const respond = () => {
      if (res.destroyed) return;
      if (file === undefined || status === 404) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found');
        return;
      }
      res.writeHead(status, {
        'content-type': file.contentType,
        'content-length': String(file.data.length),
        ...file.headers,
      });
      res.end(req.method === 'HEAD' ? undefined : file.data);
    };
    const delay = file?.delayMs ?? 0;
    if (delay <= 0) {
      respond();
      return;
    }
    // the headers wait `delay` ms; a client giving up (abort, timeout) or close() clears the timer
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      respond();
    }, delay);
    this.timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function decodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
