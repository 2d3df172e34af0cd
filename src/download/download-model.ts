/**
 * `downloadModel`: the files of a Stable Diffusion ONNX export that the engine needs, from a hub repository
 * revision (pinned to the commit it points to when the download begins) into a folder, skipping those already
 * there, resuming interrupted ones.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { DiffEditError, ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { downloadFile, PARTIAL_SUFFIX } from './transfer/download-file.js';
import { DownloadState } from './transfer/download-state.js';
import { ensureFreeSpace } from './transfer/disk-space.js';
import { fileMatches } from './transfer/hash.js';
import type { MinRate } from './transfer/min-rate.js';
import { checksumOf, contentId, type HubFile } from './hub/file.js';
import { fileSystemError } from './hub/errors.js';
import { checkRepoId, DEFAULT_ENDPOINT, normaliseEndpoint, type RepoRef } from './hub/url.js';
import { listRepoFiles } from './hub/list-files.js';
import { resolveCommit } from './hub/revision.js';
import { silentProgress, type FileResult, type ProgressReporter } from './progress/reporter.js';
import { ALL_COMPONENTS, requiredFiles, selectModelFiles, type ModelComponent } from './select-files.js';

/** Options of {@link downloadModel}. */
export interface DownloadModelOptions {
  /** `owner/name` on the hub. */
  readonly repo: string;
  /** Branch, tag or commit (the diffusers ONNX exports live on the `onnx` branch). */
  readonly revision: string;
  /** The model folder to fill (created if needed). */
  readonly outDir: string;
  /** Hub base URL (default https://huggingface.co). */
  readonly endpoint?: string;
  /** Hub token (HF_TOKEN) for gated or private repositories. */
  readonly token?: string | undefined;
  /** Which folders of the export to fetch (default all the engine loads; an inpainting export needs only unet). */
  readonly components?: readonly ModelComponent[];
  readonly progress?: ProgressReporter;
  readonly logger?: Logger;
  readonly signal?: AbortSignal | undefined;
  /** Attempts per request (default 3). */
  readonly tries?: number;
  /** First backoff delay, doubled each retry, ms (default 1000). */
  readonly retryDelayMs?: number;
  /** Idle limit per request, ms (default 60 s). */
  readonly timeoutMs?: number;
  /** A transfer slower than this is aborted and retried, then fails (default from HUB_DEFAULTS). */
  readonly minRate?: MinRate;
  readonly dispatcher?: Dispatcher | undefined;
}

/** What {@link downloadModel} did. */
export interface DownloadSummary {
  readonly repo: string;
  readonly revision: string;
  /** The commit `revision` pointed to when the download began; every file came from it. */
  readonly commit: string;
  /** Absolute path of the filled folder. */
  readonly outDir: string;
  /** Every needed file, in download order. */
  readonly files: readonly FileResult[];
  /** Files fetched (or finished) by this run. */
  readonly downloaded: number;
  /** Files found intact and left alone. */
  readonly present: number;
  /** Bytes received over the network. */
  readonly bytesTransferred: number;
  /** Size of the whole export on disk. */
  readonly totalBytes: number;
  /** Wall time, ms. */
  readonly ms: number;
}

/** Downloads the export's needed files from `repo@revision` into `outDir` and says what it did. */
export async function downloadModel(options: DownloadModelOptions): Promise<DownloadSummary> {
  try {
    return await download(options);
  } catch (error) {
    // Disk problems outside a transfer (the state file, hashing local copies) get the same clear message.
    throw fileSystemError(error, path.resolve(options.outDir)) ?? error;
  }
}

async function download(options: DownloadModelOptions): Promise<DownloadSummary> {
  const started = performance.now();
  checkRepoId(options.repo);
  const named: RepoRef = { endpoint: normaliseEndpoint(options.endpoint ?? DEFAULT_ENDPOINT), repo: options.repo, revision: options.revision };
  const outDir = path.resolve(options.outDir);
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? silentProgress;
  const components = options.components ?? ALL_COMPONENTS;
  const common = {
    token: options.token,
    signal: options.signal,
    dispatcher: options.dispatcher,
    ...(options.tries !== undefined ? { tries: options.tries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };

  // Pinned to the commit the revision names now: a push to the branch mid-download cannot mix two commits' files.
  const commit = await resolveCommit({ ...named, ...common, logger });
  const ref: RepoRef = { ...named, commit };
  const listed = await listRepoFiles({ ...ref, ...common, logger });
  const needed = selectModelFiles(listed, components);
  checkIsOnnxExport(ref, listed, needed, components);
  logger.info('model files selected', { repo: ref.repo, revision: ref.revision, commit, listed: listed.length, needed: needed.map((f) => f.path) });

  await mkdir(outDir, { recursive: true });
  const state = await DownloadState.load(outDir);
  const results: FileResult[] = [];
  const missing: HubFile[] = [];
  for (const file of needed) {
    const fileStarted = performance.now();
    if (await isPresent(outDir, file, state, logger)) {
      const result: FileResult = {
        path: file.path,
        size: file.size,
        outcome: 'present',
        bytesTransferred: 0,
        resumedFrom: 0,
        ms: performance.now() - fileStarted,
      };
      results.push(result);
      progress.finish(result);
    } else {
      missing.push(file);
    }
  }
  const partialBytes = await Promise.all(missing.map((f) => sizeOrZero(path.join(outDir, f.path + PARTIAL_SUFFIX))));
  await ensureFreeSpace(
    outDir,
    missing.reduce((sum, f, i) => sum + Math.max(0, f.size - (partialBytes[i] ?? 0)), 0),
  );

  for (const file of missing) {
    const fileStarted = performance.now();
    const dest = path.join(outDir, file.path);
    const outcome = await downloadFile({
      ...ref,
      ...common,
      ...(options.minRate !== undefined ? { minRate: options.minRate } : {}),
      file,
      dest,
      onStart: (resumedFrom) => progress.start(file.path, file.size, resumedFrom),
      onProgress: (done) => progress.update(file.path, done),
      onRetry: (attempt, error) => {
        logger.debug('retrying download', { file: file.path, attempt, error });
        progress.retry(file.path, attempt, error);
      },
    });
    await state.markVerified(outDir, file.path, contentId(file));
    const result: FileResult = {
      path: file.path,
      size: file.size,
      outcome: 'downloaded',
      bytesTransferred: outcome.bytesTransferred,
      resumedFrom: outcome.resumedFrom,
      ms: performance.now() - fileStarted,
    };
    results.push(result);
    progress.finish(result);
  }

  await state.recordSource({ repo: ref.repo, revision: ref.revision, commit });
  return {
    repo: ref.repo,
    revision: ref.revision,
    commit,
    outDir,
    files: results,
    downloaded: results.filter((r) => r.outcome === 'downloaded').length,
    present: results.filter((r) => r.outcome === 'present').length,
    bytesTransferred: results.reduce((sum, r) => sum + r.bytesTransferred, 0),
    totalBytes: results.reduce((sum, r) => sum + r.size, 0),
    ms: performance.now() - started,
  };
}

/** A revision without the ONNX files (e.g. `main`, which holds PyTorch weights) fails with the missing names. */
function checkIsOnnxExport(ref: RepoRef, listed: readonly HubFile[], needed: readonly HubFile[], components: readonly ModelComponent[]): void {
  const have = new Set(needed.map((f) => f.path));
  const absent = requiredFiles(components).filter((f) => !have.has(f));
  if (absent.length === 0) return;
  throw new DiffEditError(
    ErrorCode.DownloadFailed,
    `${ref.repo}@${ref.revision} is not a Stable Diffusion ONNX export: it lacks ${absent.join(', ')}. ` +
      'Pick the revision holding the ONNX export (--revision onnx), or export the checkpoint yourself with optimum (see models/README.md).',
    { repo: ref.repo, revision: ref.revision, missing: absent, listed: listed.length, reason: 'not-onnx' },
  );
}

/** True when `file` is already complete in `outDir`: by the state cache, or else by hashing it once. */
async function isPresent(outDir: string, file: HubFile, state: DownloadState, logger: Logger): Promise<boolean> {
  const id = contentId(file);
  if (await state.isVerified(outDir, file.path, id)) return true;
  const local = path.join(outDir, file.path);
  const size = await stat(local).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) return false;
  if (size !== file.size || !(await fileMatches(local, file.size, checksumOf(file)))) {
    logger.info('local file differs from the hub; downloading it again', { file: file.path });
    return false;
  }
  await state.markVerified(outDir, file.path, id);
  return true;
}

async function sizeOrZero(file: string): Promise<number> {
  return stat(file).then(
    (s) => (s.isFile() ? s.size : 0),
    () => 0,
  );
}
