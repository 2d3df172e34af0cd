/**
 * Every failure a user or operator can cause has an identifier here. Callers branch on `code`, users see
 * `message` (short, no stack trace), logs get `details`.
 */
export const ErrorCode = {
  /** The uploaded bytes are empty. */
  EmptyImage: 'EmptyImage',
  /** The bytes are not a JPEG, PNG, WebP or GIF picture. */
  UnsupportedImage: 'UnsupportedImage',
  /** The picture's proportions cannot be mapped to the model (beyond 4:1, or a side under 64 px at model size). */
  UnsupportedShape: 'UnsupportedShape',
  /** The picture's declared dimensions or byte size exceed the configured limits. */
  ImageTooLarge: 'ImageTooLarge',
  /** A prompt is empty or only whitespace. */
  EmptyPrompt: 'EmptyPrompt',
  /** A prompt is longer than the accepted number of characters. */
  PromptTooLong: 'PromptTooLong',
  /** ref and query say the same thing, so there is nothing to edit. */
  SamePrompts: 'SamePrompts',
  /** A numeric option is out of range. */
  InvalidOption: 'InvalidOption',
  /** The model directory is absent or holds no Stable Diffusion export at all (a fresh clone's models/). */
  NoModelExport: 'NoModelExport',
  /** A file the model directory must have is absent. */
  ModelFileMissing: 'ModelFileMissing',
  /** A model's inputs or outputs do not match the Stable Diffusion contract. */
  ModelContractMismatch: 'ModelContractMismatch',
  /** No requested execution provider could create a session. */
  ProviderUnavailable: 'ProviderUnavailable',
  /** The job was cancelled through its AbortSignal. */
  Aborted: 'Aborted',
  /** An attachment is not an accepted picture type (by its declared content type). */
  AttachmentNotImage: 'AttachmentNotImage',
  /** An attachment is larger than allowed, declared or while downloading. */
  AttachmentTooLarge: 'AttachmentTooLarge',
  /** An attachment URL points outside Discord's CDN and the configured extra hosts. */
  AttachmentHostNotAllowed: 'AttachmentHostNotAllowed',
  /** A download (an attachment, a model file) failed: HTTP error, timeout, connection, disk. */
  DownloadFailed: 'DownloadFailed',
  /** A downloaded model file's size or checksum differs from what the hub lists for it. */
  ChecksumMismatch: 'ChecksumMismatch',
  /** The whole queue is full. */
  QueueFull: 'QueueFull',
  /** This user already has the maximum number of waiting jobs. */
  UserQueueFull: 'UserQueueFull',
  /** The bot is shutting down and takes no new jobs. */
  ShuttingDown: 'ShuttingDown',
  /** A running job outlived the queue's per-job deadline: its signal was aborted and the queue moved on. */
  JobTimedOut: 'JobTimedOut',
  /** A button refers to a job that is no longer kept. */
  JobExpired: 'JobExpired',
  /** The message a "DiffEdit this image" form points at was deleted, lost its picture, or cannot be read by the bot. */
  PictureGone: 'PictureGone',
  /** The user may not do this (e.g. delete someone else's result). */
  NotAllowed: 'NotAllowed',
  /** A Discord client sent a command with options that do not fit its definition (cached before a deploy). */
  StaleCommand: 'StaleCommand',
  /** DATA_DIR cannot be created, written or read (read-only file system, no space, permissions). */
  DataDirUnusable: 'DataDirUnusable',
  /** The job store could not keep a job (disk full or read-only): the result is delivered without buttons. */
  StoreFailed: 'StoreFailed',
  /** QUEUE_BACKEND=redis and Redis cannot be reached: the job is refused, nothing was queued. */
  QueueUnavailable: 'QueueUnavailable',
  /** QUEUE_BACKEND=redis: the job is gone from Redis (restarted without its data, or evicted): it will never end. */
  JobLost: 'JobLost',
  /** QUEUE_BACKEND=redis: no GPU worker has been connected for a while: new jobs are refused at once. */
  NoWorker: 'NoWorker',
  /** QUEUE_BACKEND=redis: no worker took the job within QUEUE_WAIT_MS (none alive, or a queue far too long). */
  QueueWaitExpired: 'QueueWaitExpired',
  /** The bot stopped waiting for a job at shutdown; it stays pending in Redis and the next bot process delivers it. */
  HandedOver: 'HandedOver',
} as const;

/** One of {@link ErrorCode}'s identifiers. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure with an identifier, a message fit for users and structured details for logs. */
export class DiffEditError extends Error {
  /** The identifier callers branch on. */
  readonly code: ErrorCode;
  /** Structured facts about the failure (file names, limits, values seen), for logs and tests. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DiffEditError';
    this.code = code;
    this.details = details;
  }
}

/** True when `error` is a {@link DiffEditError}, optionally with the given code. */
export function isDiffEditError(error: unknown, code?: ErrorCode): error is DiffEditError {
  return error instanceof DiffEditError && (code === undefined || error.code === code);
}
