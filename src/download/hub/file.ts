/**
 * One file of a hub repository as the tree API lists it, and the checksum that proves a copy of it is intact.
 */

/** A file in a repository revision. */
export interface HubFile {
  /** Path inside the repository, '/'-separated. */
  readonly path: string;
  /** Size in bytes of the file's content (for LFS files: of the real content, not of the pointer). */
  readonly size: number;
  /** The git blob id (sha1) of what git stores: the content itself, or the LFS pointer for LFS files. */
  readonly oid: string;
  /** Present for files stored in LFS (model weights): `oid` is the content's sha256. */
  readonly lfs?: { readonly oid: string; readonly size: number };
}

/** How a file's content is checked: LFS lists a sha256, plain git files a blob sha1. */
export interface Checksum {
  readonly algorithm: 'sha256' | 'git-blob-sha1';
  /** Lower-case hex digest. */
  readonly hex: string;
}

/** The checksum the hub's listing gives for `file`'s content. */
export function checksumOf(file: HubFile): Checksum {
  return file.lfs !== undefined
    ? { algorithm: 'sha256', hex: file.lfs.oid.toLowerCase() }
    : { algorithm: 'git-blob-sha1', hex: file.oid.toLowerCase() };
}

/** An id that changes whenever the content does: keys the download-state cache. */
export function contentId(file: HubFile): string {
  const sum = checksumOf(file);
  return `${sum.algorithm}:${sum.hex}`;
}

/** Reads one tree-API entry; undefined for directories, throws on anything that is not the hub's shape. */
export function parseTreeEntry(value: unknown): HubFile | undefined {
  if (typeof value !== 'object' || value === null) throw new TypeError('entry is not an object');
  const entry = value as Record<string, unknown>;
  if (entry['type'] === 'directory') return undefined;
  const { path, size, oid, lfs } = entry;
  if (entry['type'] !== 'file' || typeof path !== 'string' || typeof size !== 'number' || typeof oid !== 'string') {
    throw new TypeError(`unexpected entry ${JSON.stringify(value).slice(0, 200)}`);
  }
  if (lfs === undefined || lfs === null) return { path, size, oid };
  const { oid: lfsOid, size: lfsSize } = lfs as Record<string, unknown>;
  if (typeof lfsOid !== 'string' || typeof lfsSize !== 'number') throw new TypeError(`unexpected lfs info for ${path}`);
  return { path, size: lfsSize, oid, lfs: { oid: lfsOid, size: lfsSize } };
}
