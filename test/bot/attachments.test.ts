import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AttachmentInfo,
  type AttachmentLimits,
  checkAttachment,
  DEFAULT_ATTACHMENT_HOSTS,
  downloadAttachment,
} from '../../src/bot/attachments.js';
import { DiffEditError, type ErrorCode, ErrorCode as Codes } from '../../src/errors.js';

const MIB = 1024 * 1024;

const LIMITS: AttachmentLimits = {
  maxBytes: 10 * MIB,
  maxPixels: 50e6,
  timeoutMs: 5_000,
  allowedHosts: [...DEFAULT_ATTACHMENT_HOSTS, '127.0.0.1'],
};

function info(overrides: Partial<AttachmentInfo> = {}): AttachmentInfo {
  return {
    url: 'https://cdn.discordapp.com/attachments/1/2/photo.png?ex=1&is=2&hm=secret',
    filename: 'photo.png',
    size: 1 * MIB,
    contentType: 'image/png',
    width: 1024,
    height: 768,
    ...overrides,
  };
}

/** The DiffEditError `run` throws or rejects with (fails the test when it succeeds or throws something else). */
async function failure(run: () => unknown): Promise<DiffEditError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof DiffEditError) return error;
    throw new Error(`expected a DiffEditError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a failure, but it succeeded');
}

describe('checkAttachment', () => {
  it.each<[string, Partial<AttachmentInfo>, number | undefined]>([
    ['a PNG on cdn.discordapp.com', {}, undefined],
    ['a JPEG on media.discordapp.net', { url: 'https://media.discordapp.net/a/b/c.jpg', contentType: 'image/jpeg' }, undefined],
    ['a WebP with a content-type parameter', { contentType: 'IMAGE/WEBP; charset=binary' }, undefined],
    ['no content type and a .JPG name', { contentType: null, filename: 'IMG_0001.JPG' }, undefined],
    ['no content type and a .jpeg name', { contentType: undefined, filename: 'x.jpeg' }, undefined],
    ['an empty content type and a .webp name', { contentType: '', filename: 'x.webp' }, undefined],
    ['exactly the byte cap', { size: 10 * MIB }, undefined],
    ['an interaction limit above the configured cap (it never raises it)', { size: 10 * MIB }, 25 * MIB],
    ['exactly the pixel cap', { width: 10_000, height: 5_000 }, undefined],
    ['a GIF (its first frame is used)', { contentType: 'image/gif', filename: 'cat.gif' }, undefined],
    ['exactly 4:1', { width: 4000, height: 1000 }, undefined],
    ['unknown dimensions', { width: null, height: undefined }, undefined],
    ['http on a listed loopback host', { url: 'http://127.0.0.1:8080/x.png' }, undefined],
  ])('accepts %s', (_name, overrides, interactionLimit) => {
    expect(() => checkAttachment(info(overrides), LIMITS, interactionLimit)).not.toThrow();
  });

  it.each<[string, Partial<AttachmentInfo>, number | undefined, ErrorCode, RegExp]>([
    ['image/tiff', { contentType: 'image/tiff', filename: 'cat.tiff' }, undefined, Codes.AttachmentNotImage, /JPEG, PNG or WebP/],
    ['text/plain named .png (the declared type wins)', { contentType: 'text/plain' }, undefined, Codes.AttachmentNotImage, /JPEG, PNG or WebP/],
    ['no content type and a .svg name', { contentType: null, filename: 'cat.svg' }, undefined, Codes.AttachmentNotImage, /JPEG, PNG or WebP/],
    ['no content type and no extension', { contentType: null, filename: 'photo' }, undefined, Codes.AttachmentNotImage, /JPEG, PNG or WebP/],
    ['12 MiB over the 10 MiB cap', { size: 12 * MIB }, undefined, Codes.AttachmentTooLarge, /^The picture is 12 MiB; the limit is 10 MiB\.$/],
    ['one byte over the cap', { size: 10 * MIB + 1 }, undefined, Codes.AttachmentTooLarge, /10\.1 MiB; the limit is 10 MiB/],
    ['9 MiB over an 8 MiB interaction limit', { size: 9 * MIB }, 8 * MIB, Codes.AttachmentTooLarge, /9 MiB; the limit is 8 MiB/],
    [
      '10000x6000 over 50 megapixels',
      { width: 10_000, height: 6_000 },
      undefined,
      Codes.AttachmentTooLarge,
      /10000x6000 pixels \(60 megapixels\); the limit is 50 megapixels/,
    ],
    [
      'a 10000x10 strip, beyond 4:1',
      { width: 10_000, height: 10 },
      undefined,
      Codes.UnsupportedShape,
      /10000x10, 1000:1; the model takes at most 4:1/,
    ],
    [
      'plain http to the CDN',
      { url: 'http://cdn.discordapp.com/a.png' },
      undefined,
      Codes.AttachmentHostNotAllowed,
      /^Only pictures uploaded to Discord can be used\.$/,
    ],
    [
      'another host',
      { url: 'https://evil.example/a.png' },
      undefined,
      Codes.AttachmentHostNotAllowed,
      /^Only pictures uploaded to Discord can be used\.$/,
    ],
    ['a look-alike host', { url: 'https://cdn.discordapp.com.evil.example/a.png' }, undefined, Codes.AttachmentHostNotAllowed, /uploaded to Discord/],
    ['an unlisted loopback host', { url: 'http://localhost:8080/a.png' }, undefined, Codes.AttachmentHostNotAllowed, /uploaded to Discord/],
    ['an unparsable URL', { url: 'not a url' }, undefined, Codes.AttachmentHostNotAllowed, /uploaded to Discord/],
    ['a file: URL', { url: 'file:///etc/passwd' }, undefined, Codes.AttachmentHostNotAllowed, /uploaded to Discord/],
  ])('refuses %s', async (_name, overrides, interactionLimit, code, message) => {
    const error = await failure(() => checkAttachment(info(overrides), LIMITS, interactionLimit));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('secret');
  });
});

describe('downloadAttachment', () => {
  let server: Server;
  let base: string;
  let png: Uint8Array;
  /** Paths requested, in order. */
  let requests: string[];
  /** How each streaming response ended: bytes written and whether the client hung up before the end. */
  let streamed: Promise<{ sent: number; closedEarly: boolean }>;

  /** Writes `total` bytes in 64 KiB chunks, honouring back-pressure, until done or the client goes away. */
  function stream(res: ServerResponse, total: number): void {
    streamed = (async () => {
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      let closed = false;
      res.once('close', () => {
        closed = true;
      });
      while (sent < total && !closed) {
        const ok = res.write(chunk);
        sent += chunk.length;
        if (!ok) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
      if (!closed) res.end();
      if (!closed) await once(res, 'close');
      return { sent, closedEarly: !res.writableFinished };
    })();
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push(path);
    if (path === '/image.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.byteLength }).end(png);
    } else if (path === '/missing.png') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
    } else if (path === '/server-error.png') {
      res.writeHead(503).end();
    } else if (path === '/slow-headers.png') {
      // Never answers: the deadline has to end it.
    } else if (path === '/slow-body.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(png.subarray(0, 10));
    } else if (path === '/huge-declared.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 64 * MIB });
      stream(res, 64 * MIB);
    } else if (path === '/huge-chunked.png') {
      res.writeHead(200, { 'content-type': 'image/png' }); // no Content-Length: chunked
      stream(res, 64 * MIB);
    } else if (path === '/redirect-relative.png') {
      res.writeHead(302, { location: '/image.png' }).end();
    } else if (path === '/redirect-away.png') {
      const { port } = server.address() as AddressInfo;
      res.writeHead(302, { location: `http://localhost:${port}/image.png` }).end();
    } else if (path === '/redirect-loop.png') {
      res.writeHead(302, { location: '/redirect-loop.png' }).end();
    } else {
      res.writeHead(500).end();
    }
  }

  beforeAll(async () => {
    png = new Uint8Array(
      await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 30, b: 90 } } })
        .png()
        .toBuffer(),
    );
    server = createServer(handle);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  beforeEach(() => {
    requests = [];
  });

  const at = (path: string, overrides: Partial<AttachmentInfo> = {}): AttachmentInfo => info({ url: `${base}${path}`, size: 1024, ...overrides });

  it('returns exactly the bytes the server sent', async () => {
    const bytes = await downloadAttachment(at('/image.png?ex=1&hm=secret'), LIMITS);
    expect(Buffer.from(bytes).equals(Buffer.from(png))).toBe(true);
    expect(requests).toEqual(['/image.png']);
  });

  it('follows a relative redirect on an allowed host', async () => {
    const bytes = await downloadAttachment(at('/redirect-relative.png'), LIMITS);
    expect(Buffer.from(bytes).equals(Buffer.from(png))).toBe(true);
    expect(requests).toEqual(['/redirect-relative.png', '/image.png']);
  });

  it.each<[string, string, RegExp]>([
    [
      '404 as gone, without the signed query',
      '/missing.png?ex=1&is=2&hm=secret',
      /^Could not download the picture: the attachment is gone \(404\); upload it again\.$/,
    ],
    ['another status with its code', '/server-error.png', /HTTP 503/],
  ])('reports %s as DownloadFailed', async (_name, path, message) => {
    const error = await failure(() => downloadAttachment(at(path), LIMITS));
    expect(error.code).toBe(Codes.DownloadFailed);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('secret');
    expect(JSON.stringify(error.details)).not.toContain('secret');
  });

  it.each(['/slow-headers.png', '/slow-body.png'])('gives up on %s at the deadline with DownloadFailed', async (path) => {
    const started = Date.now();
    const error = await failure(() => downloadAttachment(at(path), { ...LIMITS, timeoutMs: 200 }));
    expect(error.code).toBe(Codes.DownloadFailed);
    expect(error.message).toBe('Downloading the picture took longer than 200 ms; try again.');
    expect(error.cause).toBeDefined();
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('stops with Aborted when the caller cancels', async () => {
    const controller = new AbortController();
    const pending = downloadAttachment(at('/slow-headers.png'), LIMITS, controller.signal);
    setTimeout(() => controller.abort(new Error('user pressed cancel')), 50);
    const error = await failure(() => pending);
    expect(error.code).toBe(Codes.Aborted);
  });

  it.each<[string, string]>([
    ['a Content-Length over the cap, before reading the body', '/huge-declared.png'],
    ['a chunked body running past the cap although Discord declared 1 KiB', '/huge-chunked.png'],
  ])('refuses %s and hangs up early', async (_name, path) => {
    const limits = { ...LIMITS, maxBytes: 256 * 1024 };
    const error = await failure(() => downloadAttachment(at(path, { size: 1024 }), limits));
    expect(error.code).toBe(Codes.AttachmentTooLarge);
    expect(error.message).toBe('The picture is larger than the 0.2 MiB limit.');
    const { sent, closedEarly } = await streamed;
    expect(closedEarly).toBe(true);
    // 64 MiB were on offer; socket buffers hold a few MiB at most.
    expect(sent).toBeLessThan(16 * MIB);
  });

  it('refuses a redirect to a host that is not allowed, without following it', async () => {
    const error = await failure(() => downloadAttachment(at('/redirect-away.png'), LIMITS));
    expect(error.code).toBe(Codes.AttachmentHostNotAllowed);
    expect(error.message).toBe('Only pictures uploaded to Discord can be used.');
    expect(requests).toEqual(['/redirect-away.png']);
  });

  it('gives up after three redirects', async () => {
    const error = await failure(() => downloadAttachment(at('/redirect-loop.png'), LIMITS));
    expect(error.code).toBe(Codes.DownloadFailed);
    expect(error.message).toMatch(/too many redirects/);
    expect(requests).toEqual(Array(4).fill('/redirect-loop.png'));
  });

  it.each<[string, (port: number) => string, readonly string[]]>([
    ['an unlisted host', (port) => `http://localhost:${port}/image.png`, LIMITS.allowedHosts],
    ['plain http to a listed host that is not loopback', (port) => `http://cdn.discordapp.com:${port}/image.png`, LIMITS.allowedHosts],
    ['a loopback host missing from the list', (port) => `http://127.0.0.1:${port}/image.png`, DEFAULT_ATTACHMENT_HOSTS],
  ])('refuses %s before any request is made', async (_name, url, allowedHosts) => {
    const { port } = server.address() as AddressInfo;
    const error = await failure(() => downloadAttachment(info({ url: url(port) }), { ...LIMITS, allowedHosts }));
    expect(error.code).toBe(Codes.AttachmentHostNotAllowed);
    expect(requests).toEqual([]);
  });
});
