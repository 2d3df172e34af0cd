import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileJobStore, JOB_ID_LENGTH } from '../../src/bot/job-store.js';
import { newJob } from './stored-jobs.js';

const IMAGE_BYTES = 1000;

/** A recognisable picture: every byte tells which job it belongs to. */
function image(tag: number, length = IMAGE_BYTES): Uint8Array {
  return new Uint8Array(length).map((_, i) => (tag * 31 + i) & 0xff);
}

let dir: string;
let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'job-store-'));
  dir = join(scratch, 'data');
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * Bytes a job with a one-letter query and an {@link IMAGE_BYTES} picture takes on disk: all such jobs are the same
 * size (ids and timestamps have a fixed length).
 */
async function bytesPerJob(): Promise<number> {
  const probe = await FileJobStore.open(join(scratch, 'probe'), { maxBytes: 1e9 });
  await probe.save(newJob({ query: 'x' }), image(0));
  return probe.usedBytes;
}

async function filesIn(path: string): Promise<string[]> {
  return (await readdir(path)).sort();
}

describe('FileJobStore', () => {
  it("keeps a mask job's latent mask, and refuses a stored job whose mask is malformed", async () => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const latentMask = { width: 16, height: 16, bits: Buffer.alloc(32, 0xf0).toString('base64') };
    const saved = await store.save(newJob({ kind: 'mask', latentMask }), image(3));
    expect((await store.load(saved.id))?.job.latentMask).toEqual(latentMask);
    const file = join(dir, `${saved.id}.json`);
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), latentMask: 'not a mask' }));
    expect(await store.load(saved.id)).toBeUndefined();
  });

  it('saves a job and loads it back with the same picture bytes', async () => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const before = Date.now();
    const saved = await store.save(newJob({ kind: 'mask', guildId: '333' }), image(7));

    expect(saved.id).toMatch(new RegExp(`^[A-Za-z0-9_-]{${JOB_ID_LENGTH}}$`));
    expect(`reroll:${saved.id}`.length).toBeLessThanOrEqual(100);
    expect(saved).toMatchObject({ ...newJob({ kind: 'mask', guildId: '333' }), imageBytes: IMAGE_BYTES });
    expect(saved.createdAt).toBeGreaterThanOrEqual(before);

    const loaded = await store.load(saved.id);
    expect(loaded?.job).toEqual(saved);
    expect(Buffer.from(loaded?.image ?? []).equals(Buffer.from(image(7)))).toBe(true);

    // Exactly the two files, no temporary leftovers, and usedBytes is what they take.
    expect(await filesIn(dir)).toEqual([`${saved.id}.img`, `${saved.id}.json`]);
    const sizes = await Promise.all([`${saved.id}.img`, `${saved.id}.json`].map(async (name) => (await stat(join(dir, name))).size));
    expect(store.usedBytes).toBe(sizes[0]! + sizes[1]!);
    expect(JSON.parse(await readFile(join(dir, `${saved.id}.json`), 'utf8'))).toEqual(saved);
  });

  it('gives every job a different id', async () => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(newJob(), image(i, 10)).then((job) => job.id)));
    expect(new Set(ids).size).toBe(20);
  });

  it('keeps jobs across a restart', async () => {
    const first = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const a = await first.save(newJob({ query: 'first' }), image(1));
    const b = await first.save(newJob({ query: 'second' }), image(2));

    const second = await FileJobStore.open(dir, { maxBytes: 1e6 });
    expect(second.usedBytes).toBe(first.usedBytes);
    expect((await second.load(a.id))?.job.query).toBe('first');
    const loaded = await second.load(b.id);
    expect(loaded?.job).toEqual(b);
    expect(Buffer.from(loaded?.image ?? []).equals(Buffer.from(image(2)))).toBe(true);
  });

  it.each<[string, boolean]>([
    ['in one run', false],
    ['across a restart', true],
  ])('evicts the least recently used job first, a load counting as a use (%s)', async (_name, restart) => {
    const perJob = await bytesPerJob();
    const options = { maxBytes: 3 * perJob + perJob / 2 }; // room for three jobs
    let store = await FileJobStore.open(dir, options);
    const a = await store.save(newJob({ query: 'a' }), image(1));
    const b = await store.save(newJob({ query: 'b' }), image(2));
    const c = await store.save(newJob({ query: 'c' }), image(3));
    expect(await store.load(a.id)).toBeDefined(); // a is now more recent than b and c
    if (restart) store = await FileJobStore.open(dir, options);

    const d = await store.save(newJob({ query: 'd' }), image(4));
    expect(await store.load(b.id)).toBeUndefined();
    const e = await store.save(newJob({ query: 'e' }), image(5));
    expect(await store.load(c.id)).toBeUndefined();

    const left = await Promise.all([a, d, e].map(async (job) => (await store.load(job.id))?.job.query));
    expect(left).toEqual(['a', 'd', 'e']);
    expect(await filesIn(dir)).toEqual([a, d, e].flatMap((job) => [`${job.id}.img`, `${job.id}.json`]).sort());
    expect(store.usedBytes).toBe(3 * perJob);
  });

  it('keeps the job just saved even when it alone is over the cap', async () => {
    const store = await FileJobStore.open(dir, { maxBytes: 5000 });
    const small = await store.save(newJob(), image(1));
    const big = await store.save(newJob(), image(2, 8000));
    expect(await store.load(small.id)).toBeUndefined();
    expect((await store.load(big.id))?.image.byteLength).toBe(8000);
    expect(store.usedBytes).toBeGreaterThan(8000);
  });

  it('evicts on open when the cap was lowered since the last run', async () => {
    const perJob = await bytesPerJob();
    const generous = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const old = await generous.save(newJob({ query: 'o' }), image(1));
    const recent = await generous.save(newJob({ query: 'r' }), image(2));

    const tight = await FileJobStore.open(dir, { maxBytes: perJob });
    expect(tight.usedBytes).toBe(perJob);
    expect(await tight.load(old.id)).toBeUndefined();
    expect(await tight.load(recent.id)).toBeDefined();
  });

  it.each<[string, (id: string) => string | Uint8Array]>([
    ['JSON that does not parse', () => '{"id": "trunc'],
    ['JSON of the wrong shape', (id) => JSON.stringify({ id, kind: 'upscale' })],
    ['JSON naming another job', () => JSON.stringify({ ...newJob(), id: 'A'.repeat(JOB_ID_LENGTH), createdAt: 1, imageBytes: IMAGE_BYTES })],
    ['JSON that is not an object', () => '42'],
  ])('answers undefined, without throwing, for a job with %s', async (_name, corrupt) => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const job = await store.save(newJob(), image(1));
    await writeFile(join(dir, `${job.id}.json`), corrupt(job.id));
    await expect(store.load(job.id)).resolves.toBeUndefined();
  });

  it('answers undefined for a job whose picture was truncated', async () => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const job = await store.save(newJob(), image(1));
    await writeFile(join(dir, `${job.id}.img`), image(1, 10));
    await expect(store.load(job.id)).resolves.toBeUndefined();
  });

  it.each([
    '../outside',
    '..%2Foutside',
    'a/../../outside',
    '..\\outside',
    '',
    '.',
    'AAAAAAAAAAAAAAA.', // the right length, a forbidden character
    'A'.repeat(JOB_ID_LENGTH - 1),
    'A'.repeat(200),
  ])('refuses the crafted id %j without reading or removing anything', async (id) => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    // A well-formed job outside the store, where "../outside" would lead.
    const outside = { ...newJob(), id, createdAt: 1, imageBytes: 3 };
    await writeFile(join(scratch, 'outside.json'), JSON.stringify(outside));
    await writeFile(join(scratch, 'outside.img'), new Uint8Array([1, 2, 3]));

    await expect(store.load(id)).resolves.toBeUndefined();
    await store.delete(id);
    expect(await filesIn(scratch)).toEqual(['data', 'outside.img', 'outside.json']);
  });

  it('deletes a job: files gone, bytes freed, load answers undefined', async () => {
    const store = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const keep = await store.save(newJob(), image(1));
    const used = store.usedBytes;
    const drop = await store.save(newJob(), image(2));
    await store.delete(drop.id);
    expect(store.usedBytes).toBe(used);
    expect(await store.load(drop.id)).toBeUndefined();
    expect(await filesIn(dir)).toEqual([`${keep.id}.img`, `${keep.id}.json`]);
    await store.delete(drop.id); // twice: nothing to do, no error
  });

  it('on open removes interrupted writes and half-saved jobs but leaves other files alone', async () => {
    const first = await FileJobStore.open(dir, { maxBytes: 1e6 });
    const whole = await first.save(newJob(), image(1));
    const half = await first.save(newJob(), image(2));
    await rm(join(dir, `${half.id}.json`)); // as if the process died between the two renames
    const orphanJson = 'B'.repeat(JOB_ID_LENGTH);
    await writeFile(join(dir, `${orphanJson}.json`), '{}');
    await writeFile(join(dir, `${'C'.repeat(JOB_ID_LENGTH)}.img.abcdefgh.tmp`), image(3));
    await writeFile(join(dir, 'settings.json'), '{"keep": true}');
    await writeFile(join(dir, 'notes.txt'), 'not ours');

    const reopened = await FileJobStore.open(dir, { maxBytes: 1e6 });
    expect(await filesIn(dir)).toEqual([`${whole.id}.img`, `${whole.id}.json`, 'notes.txt', 'settings.json'].sort());
    const sizes = await Promise.all([`${whole.id}.img`, `${whole.id}.json`].map(async (name) => (await stat(join(dir, name))).size));
    expect(reopened.usedBytes).toBe(sizes[0]! + sizes[1]!);
  });
});
