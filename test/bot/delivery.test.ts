/** Which Discord errors the delivery ladder retries, and which move it down a rung (pure classification). */
import { DiscordAPIError, HTTPError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { isExpiredToken, isTransient, isUnknownMessage } from '../../src/bot/delivery.js';

const body = { body: undefined, files: undefined };
const api = (code: number, status: number) => new DiscordAPIError({ code, message: `error ${code}` }, code, status, 'PATCH', '/x', body);
const network = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('delivery error classification', () => {
  it.each([
    ['HTTP 500 after discord.js gave up', new HTTPError(500, 'Internal Server Error', 'PATCH', '/x', body), true, false],
    ['HTTP 503', new HTTPError(503, 'Service Unavailable', 'POST', '/x', body), true, false],
    ['a reset connection', network('ECONNRESET'), true, false],
    ['fetch failed, caused by a refused connection', new TypeError('fetch failed', { cause: network('ECONNREFUSED') }), true, false],
    ['a request timeout (AbortError)', Object.assign(new Error('aborted'), { name: 'AbortError' }), true, false],
    ['50027 invalid webhook token (15 minutes passed)', api(50027, 401), false, true],
    ['10015 unknown webhook', api(10015, 404), false, true],
    ['10062 unknown interaction', api(10062, 404), false, true],
    ['50013 missing permissions', api(50013, 403), false, false],
    ['50007 DMs closed', api(50007, 403), false, false],
    ['40005 file too large', api(40005, 413), false, false],
    ['a bug in our code', new TypeError('x is undefined'), false, false],
  ])('%s: transient %s, expired token %s', (_name, error, transient, expired) => {
    expect([isTransient(error), isExpiredToken(error)]).toEqual([transient, expired]);
  });

  it('10008 unknown message means already deleted', () => {
    expect([isUnknownMessage(api(10008, 404)), isUnknownMessage(api(50013, 403))]).toEqual([true, false]);
  });
});
