import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ensureFreeSpace } from '../../../src/download/transfer/disk-space.js';
import { fileSystemError, httpStatusError, isRetryable } from '../../../src/download/hub/errors.js';
import { ErrorCode } from '../../../src/errors.js';

const ref = { endpoint: 'https://huggingface.co', repo: 'org/model', revision: 'onnx' };
const url = 'https://huggingface.co/api/models/org/model/tree/onnx';

describe('httpStatusError', () => {
  it('asks for HF_TOKEN and the licence on 401/403 without a token, and says the token was refused with one', () => {
    const missing = httpStatusError(401, undefined, url, { ref, withToken: false });
    const refused = httpStatusError(403, 'GatedRepo', url, { ref, withToken: true });

    expect(missing.message).toMatch(/needs HF_TOKEN .*accept the licence on the model page https:\/\/huggingface\.co\/org\/model/);
    expect(refused.message).toMatch(/refused HF_TOKEN .*accept the licence on https:\/\/huggingface\.co\/org\/model/);
    expect([missing.details['reason'], refused.details['reason']]).toEqual(['unauthorized', 'unauthorized']);
  });

  it("reads the hub's X-Error-Code: a 401 RepoNotFound is a missing (or private) repository", () => {
    const error = httpStatusError(401, 'RepoNotFound', url, { ref, withToken: false });

    expect(error.message).toMatch(/Repository org\/model .* was not found .* If it is private, set HF_TOKEN/);
    expect(error.details).toMatchObject({ reason: 'not-found', status: 401 });
  });

  it('names the missing file on a 404 of a download, and retries only 408/429/5xx', () => {
    const missing = httpStatusError(404, 'EntryNotFound', url, { ref, file: 'unet/model.onnx', withToken: false });

    expect(missing.message).toContain('org/model@onnx has no file unet/model.onnx');
    expect(isRetryable(missing)).toBe(false);
    expect(isRetryable(httpStatusError(503, undefined, url, { ref, withToken: false }))).toBe(true);
    expect(isRetryable(httpStatusError(429, undefined, url, { ref, withToken: false }))).toBe(true);
    expect(isRetryable(httpStatusError(400, undefined, url, { ref, withToken: false }))).toBe(false);
  });
});

describe('disk problems', () => {
  it('turns ENOSPC into a disk-full message that promises a resume', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

    const error = fileSystemError(enospc, '/srv/models/unet/weights.pb');

    expect(error?.code).toBe(ErrorCode.DownloadFailed);
    expect(error?.message).toBe(
      'The disk is full while writing /srv/models/unet/weights.pb. Free some space and run again: finished files are kept and this one resumes.',
    );
    expect(error?.details).toMatchObject({ reason: 'disk-full' });
    expect(isRetryable(enospc)).toBe(false);
  });

  it('refuses to start a download bigger than the free space', async () => {
    await expect(ensureFreeSpace(os.tmpdir(), Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({
      code: ErrorCode.DownloadFailed,
      details: { reason: 'disk-full', needed: Number.MAX_SAFE_INTEGER },
    });
    await expect(ensureFreeSpace(os.tmpdir(), 1)).resolves.toBeUndefined();
  });
});
