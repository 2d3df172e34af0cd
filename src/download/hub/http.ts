/**
 * GET requests to the hub with undici: redirects followed by hand so the token only ever goes to the hub's
 * own origin (the hub sends LFS downloads to a CDN, which must not see it).
 */
import { request, type Dispatcher } from 'undici';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { headerValue } from '../../util/headers.js';

/** Options of {@link hubGet}. */
export interface HubGetOptions {
  /** Sent as `Authorization: Bearer` to `trustedOrigin` only. */
  readonly token?: string | undefined;
  /** The hub's origin; by default the first URL's. */
  readonly trustedOrigin?: string;
  /** Extra request headers (e.g. Range), kept across redirects. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** Idle limit for headers and for each pause in the body, ms (a stalled transfer fails and is retried). */
  readonly timeoutMs?: number;
  /** The undici dispatcher (connection pool); the global one by default. */
  readonly dispatcher?: Dispatcher | undefined;
}

/** The final response of a redirect chain, with the URL that gave it. */
export interface HubResponse {
  readonly url: string;
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
}

const MAX_REDIRECTS = 10;
const USER_AGENT = 'diffedit-bot (npm run models; undici)';

/** GETs `url`, following redirects; the caller reads or {@link discard}s the body of what comes back. */
export async function hubGet(url: string, options: HubGetOptions = {}): Promise<HubResponse> {
  const trustedOrigin = options.trustedOrigin ?? new URL(url).origin;
  const timeout = options.timeoutMs ?? 60_000;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...options.headers };
    if (options.token !== undefined && current.origin === trustedOrigin) headers['authorization'] = `Bearer ${options.token}`;
    const response = await request(current, {
      method: 'GET',
      headers,
      signal: options.signal,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(options.dispatcher !== undefined ? { dispatcher: options.dispatcher } : {}),
    });
    const location = headerValue(response.headers['location']);
    if (response.statusCode < 300 || response.statusCode >= 400 || response.statusCode === 304 || location === undefined) {
      return { url: current.href, statusCode: response.statusCode, headers: response.headers, body: response.body };
    }
    await discard(response.body);
    if (hop >= MAX_REDIRECTS) {
      throw new DiffEditError(ErrorCode.DownloadFailed, `Too many redirects fetching ${url}.`, { url, reason: 'http' });
    }
    current = new URL(location, current);
  }
}

/** Drops a body we will not read (a redirect's, an error page's): small ones keep the connection reusable. */
export async function discard(body: HubResponse['body']): Promise<void> {
  await body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

/** The `rel="next"` target of a `Link` header (the hub's pagination), resolved against `base`. */
export function nextLink(link: string | undefined, base: string): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match !== null && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(match[2] ?? '')) return new URL(match[1] ?? '', base).href;
  }
  return undefined;
}
