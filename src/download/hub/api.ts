/**
 * `getHubJson`: one GET of the hub's JSON API (file listing, model info), retried when another attempt can cure
 * the failure, with the token for the hub's origin only and errors a user can act on.
 */
import { silentLogger, type Logger } from '../../logger.js';
import { headerValue } from '../../util/headers.js';
import { withRetries, type RetryOptions } from '../transfer/retry.js';
import { abortedError, badAnswer, httpStatusError, isNetworkError, networkError } from './errors.js';
import { discard, hubGet, type HubGetOptions, type HubResponse } from './http.js';
import type { RepoRef } from './url.js';

/** Options of the hub's API calls: a GET's (the token goes to the endpoint's origin only) and the retries'. */
export interface HubApiOptions extends Omit<RetryOptions, 'onRetry'>, Pick<HubGetOptions, 'token' | 'timeoutMs' | 'dispatcher'> {
  readonly logger?: Logger;
}

/** A parsed answer and where it came from (after redirects). */
export interface HubJson extends Pick<HubResponse, 'url' | 'headers'> {
  readonly json: unknown;
}

/** GETs `url` of `ref`'s hub as JSON; `resource` names it in messages (e.g. 'file list'). */
export async function getHubJson(url: string, ref: RepoRef, resource: string, options: HubApiOptions): Promise<HubJson> {
  const logger = options.logger ?? silentLogger;
  return withRetries(() => fetchJson(url, ref, resource, options), {
    ...options,
    onRetry: (attempt, error) => logger.warn(`retrying the ${resource}`, { url, attempt, error }),
  }).catch((error: unknown) => {
    if (options.signal?.aborted === true) throw abortedError(options.signal.reason);
    throw isNetworkError(error) ? networkError(error, url, undefined, `the ${resource}`) : error;
  });
}

async function fetchJson(url: string, ref: RepoRef, resource: string, options: HubApiOptions): Promise<HubJson> {
  const response = await hubGet(url, {
    token: options.token,
    trustedOrigin: new URL(ref.endpoint).origin,
    headers: { accept: 'application/json' },
    signal: options.signal,
    dispatcher: options.dispatcher,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (response.statusCode !== 200) {
    await discard(response.body);
    throw httpStatusError(response.statusCode, headerValue(response.headers['x-error-code']), url, {
      ref,
      resource: `the ${resource}`,
      withToken: options.token !== undefined,
    });
  }
  const text = await response.body.text();
  try {
    return { json: JSON.parse(text) as unknown, url: response.url, headers: response.headers };
  } catch {
    throw badAnswer(url, resource, 'not JSON');
  }
}
