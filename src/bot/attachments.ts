/**
 * Discord attachments: checks on their declared metadata, then a guarded download (host allowlist on every hop,
 * deadline, hard byte cap while streaming). Every refusal is a {@link DiffEditError} whose message users can read.
 */
import { request } from 'undici';
import { assertAspect } from '../engine/image/dimensions.js';
import { DiffEditError, ErrorCode } from '../errors.js';
import { megapixels } from '../util/format.js';
import { headerValue } from '../util/headers.js';

/** What Discord tells us about an attachment before anything is downloaded (a subset of discord.js's `Attachment`). */
export interface AttachmentInfo {
  /** Where Discord serves it, signed query included. */
  readonly url: string;
  /** The uploader's file name: judged only when there is no content type, never shown back. */
  readonly filename: string;
  /** Declared size in bytes. */
  readonly size: number;
  /** Declared MIME type, possibly with parameters; absent for some uploads. */
  readonly contentType: string | null | undefined;
  /** Declared width in pixels, when Discord knows it. */
  readonly width: number | null | undefined;
  /** Declared height in pixels, when Discord knows it. */
  readonly height: number | null | undefined;
}

/** How big, how slow and from where an attachment may come. */
export interface AttachmentLimits {
  /** Byte cap (default 10 MiB); {@link checkAttachment} lowers it further to the interaction's attachment_size_limit. */
  readonly maxBytes: number;
  /** Cap on the declared width x height, e.g. 50e6. */
  readonly maxPixels: number;
  /** Deadline for the whole download, redirects included (default 30 s). */
  readonly timeoutMs: number;
  /** Exact hostnames downloads may come from: {@link DEFAULT_ATTACHMENT_HOSTS} plus configured extras. */
  readonly allowedHosts: readonly string[];
}

/** Discord's attachment CDNs. */
export const DEFAULT_ATTACHMENT_HOSTS: readonly string[] = ['cdn.discordapp.com', 'media.discordapp.net'];

/** The picture types the engine decodes. */
export const ACCEPTED_CONTENT_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];

/** Default {@link AttachmentLimits.maxBytes}: 10 MiB. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** Default {@link AttachmentLimits.timeoutMs}: 30 s. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;

/** Redirects followed (each one re-checked against the allowlist) before giving up. */
export const MAX_REDIRECTS = 3;

const ACCEPTED_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif'];

/** Plain http is only tolerated for these, and only when listed in allowedHosts: the tests' local server. */
const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

const HOST_NOT_ALLOWED_MESSAGE = 'Only pictures uploaded to Discord can be used.';

const MIB = 1024 * 1024;

/**
 * Checks declared metadata before any byte is fetched: URL scheme and host, content type (or the filename's extension
 * when Discord gave none), declared size against the cap and declared pixel count. `interactionSizeLimit` is the
 * interaction's attachment_size_limit when present; it lowers the configured cap, never raises it.
 */
export function checkAttachment(info: AttachmentInfo, limits: AttachmentLimits, interactionSizeLimit?: number): void {
  checkUrl(info.url, limits.allowedHosts);
  checkContentType(info);

  const cap = effectiveMaxBytes(limits, interactionSizeLimit);
  if (info.size > cap) {
    throw new DiffEditError(ErrorCode.AttachmentTooLarge, `The picture is ${formatMiB(info.size, 'up')}; the limit is ${formatMiB(cap, 'down')}.`, {
      size: info.size,
      limit: cap,
      filename: info.filename,
    });
  }

  const { width, height } = info;
  if (typeof width !== 'number' || typeof height !== 'number') return;
  if (width > 0 && height > 0) assertAspect(width, height);
  if (width * height > limits.maxPixels) {
    throw new DiffEditError(
      ErrorCode.AttachmentTooLarge,
      `The picture is ${width}x${height} pixels (${megapixels(width * height)} megapixels); the limit is ${megapixels(limits.maxPixels)} megapixels.`,
      { width, height, maxPixels: limits.maxPixels, filename: info.filename },
    );
  }
}

/**
 * Downloads an attachment after {@link checkAttachment} (without an interaction limit: pass limits whose maxBytes is
 * already lowered if needed). Redirects are followed by hand, at most {@link MAX_REDIRECTS}, each target re-checked, so
 * an allowed host cannot bounce us elsewhere. The byte cap is enforced on the bytes actually received: a lying or
 * absent Content-Length cannot make us buffer more than `maxBytes`.
 */
export async function downloadAttachment(info: AttachmentInfo, limits: AttachmentLimits, signal?: AbortSignal): Promise<Uint8Array> {
  checkAttachment(info, limits);
  if (signal?.aborted) throw abortedError(signal.reason);

  const timeout = AbortSignal.timeout(limits.timeoutMs);
  // Aborted by us when the cap is crossed: tearing down the request closes the connection instead of draining it.
  const overflow = new AbortController();
  const combined = AbortSignal.any(signal === undefined ? [timeout, overflow.signal] : [timeout, overflow.signal, signal]);
  const cap = limits.maxBytes;

  let url = parseUrl(info.url);
  try {
    for (let hop = 0; ; hop++) {
      const response = await request(url, {
        method: 'GET',
        signal: combined,
        headers: { accept: ACCEPTED_CONTENT_TYPES.join(', '), 'user-agent': 'diffedit-bot' },
      });
      const { statusCode, headers, body } = response;

      if (statusCode >= 300 && statusCode < 400 && statusCode !== 304) {
        // Drop the redirect's body without reading it: it may be arbitrarily large.
        discard(body);
        const location = headerValue(headers['location']);
        if (location === undefined) {
          throw new DiffEditError(ErrorCode.DownloadFailed, `Downloading the picture failed (HTTP ${statusCode}); try again.`, {
            status: statusCode,
            url: loggableUrl(url),
          });
        }
        if (hop >= MAX_REDIRECTS) {
          throw new DiffEditError(ErrorCode.DownloadFailed, 'Downloading the picture failed (too many redirects); upload it again.', {
            redirects: hop + 1,
            url: loggableUrl(url),
          });
        }
        const next = parseUrl(location, url);
        checkUrl(next.href, limits.allowedHosts);
        url = next;
        continue;
      }

      if (statusCode < 200 || statusCode >= 300) {
        discard(body);
        throw statusError(statusCode, url);
      }

      const declared = Number(headerValue(headers['content-length']));
      if (Number.isFinite(declared) && declared > cap) {
        overflow.abort();
        discard(body);
        throw tooLargeWhileDownloading(cap, { contentLength: declared, url: loggableUrl(url) });
      }

      const chunks: Uint8Array[] = [];
      let received = 0;
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        if (received > cap) {
          overflow.abort();
          discard(body);
          throw tooLargeWhileDownloading(cap, { received, url: loggableUrl(url) });
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks, received);
    }
  } catch (error) {
    if (error instanceof DiffEditError) throw error;
    if (signal?.aborted) throw abortedError(signal.reason);
    if (timeout.aborted) {
      throw new DiffEditError(
        ErrorCode.DownloadFailed,
        `Downloading the picture took longer than ${formatSeconds(limits.timeoutMs)}; try again.`,
        { timeoutMs: limits.timeoutMs, url: loggableUrl(url) },
        { cause: error },
      );
    }
    throw new DiffEditError(ErrorCode.DownloadFailed, 'Downloading the picture failed; try again.', { url: loggableUrl(url) }, { cause: error });
  }
}

/** The byte cap in force: the configured one, lowered to the interaction's limit when that is smaller. */
export function effectiveMaxBytes(limits: AttachmentLimits, interactionSizeLimit?: number): number {
  return interactionSizeLimit !== undefined && interactionSizeLimit > 0 ? Math.min(limits.maxBytes, interactionSizeLimit) : limits.maxBytes;
}

/** Refuses anything but https (http for listed loopback hosts) to an allowed host. */
function checkUrl(raw: string, allowedHosts: readonly string[]): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new DiffEditError(ErrorCode.AttachmentHostNotAllowed, HOST_NOT_ALLOWED_MESSAGE, { reason: 'unparsable url' }, { cause: error });
  }
  const host = bareHost(url.hostname);
  const allowed = allowedHosts.some((entry) => bareHost(entry) === host);
  const schemeOk = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.includes(host));
  if (!allowed || !schemeOk) {
    throw new DiffEditError(ErrorCode.AttachmentHostNotAllowed, HOST_NOT_ALLOWED_MESSAGE, {
      reason: allowed ? 'scheme not allowed' : 'host not allowed',
      protocol: url.protocol,
      host,
    });
  }
}

/** True when the declared content type (or, without one, the filename's extension) is a picture the engine decodes. */
export function isAcceptedImage(info: Pick<AttachmentInfo, 'contentType' | 'filename'>): boolean {
  const declared = info.contentType?.split(';')[0]?.trim().toLowerCase();
  return declared !== undefined && declared !== ''
    ? ACCEPTED_CONTENT_TYPES.includes(declared)
    : ACCEPTED_EXTENSIONS.some((extension) => info.filename.toLowerCase().endsWith(extension));
}

/** Refuses what {@link isAcceptedImage} does not accept. */
function checkContentType(info: AttachmentInfo): void {
  if (!isAcceptedImage(info)) {
    throw new DiffEditError(
      ErrorCode.AttachmentNotImage,
      'That file is not a picture the bot can edit: upload a JPEG, PNG or WebP image (or a GIF).',
      {
        contentType: info.contentType ?? null,
        filename: info.filename,
        accepted: ACCEPTED_CONTENT_TYPES,
      },
    );
  }
}

function parseUrl(raw: string, base?: URL): URL {
  try {
    return new URL(raw, base);
  } catch (error) {
    throw new DiffEditError(ErrorCode.AttachmentHostNotAllowed, HOST_NOT_ALLOWED_MESSAGE, { reason: 'unparsable url' }, { cause: error });
  }
}

function statusError(status: number, url: URL): DiffEditError {
  const message =
    status === 404
      ? 'Could not download the picture: the attachment is gone (404); upload it again.'
      : `Could not download the picture (HTTP ${status}); try again.`;
  return new DiffEditError(ErrorCode.DownloadFailed, message, { status, url: loggableUrl(url) });
}

function tooLargeWhileDownloading(cap: number, details: Record<string, unknown>): DiffEditError {
  return new DiffEditError(ErrorCode.AttachmentTooLarge, `The picture is larger than the ${formatMiB(cap, 'down')} limit.`, {
    limit: cap,
    ...details,
  });
}

function abortedError(reason: unknown): DiffEditError {
  // The canceller's own typed reason (e.g. the bot shutting down) says more than "cancelled".
  if (reason instanceof DiffEditError) return reason;
  return new DiffEditError(ErrorCode.Aborted, 'The download was cancelled.', {}, { cause: reason });
}

/** Discord's signed query (ex, is, hm) is a credential until it expires: keep it out of logs and messages. */
function loggableUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** `URL.hostname` keeps IPv6 brackets; compare hosts without them and case-insensitively. */
function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** Destroys a response body we will not read; undici then reports an AbortError on it, which nobody needs to see. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Sizes are rounded away from the limit so that "10.01 MiB over a 10 MiB limit" never reads "10 MiB; the limit is 10 MiB". */
function formatMiB(bytes: number, round: 'up' | 'down'): string {
  const tenths = (round === 'up' ? Math.ceil : Math.floor)((bytes / MIB) * 10) / 10;
  return `${tenths} MiB`;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
