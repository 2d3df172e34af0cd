/**
 * Writes the scenes `npm run demo` edits: demo/scenes/<name>.png and demo/scenes/scenes.json (file, ref, query,
 * seeds). Held-out scenes drawn from fixed seeds (not training's), not picked for how well they come out.
 *
 * Usage: tsx tools/demo-model/write-scenes.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { colourCase, shapeCase, type EditCase } from './cases.js';

const OUT = fileURLToPath(new URL('../../demo/scenes', import.meta.url));
const SEED = 500;

const scenes: readonly (readonly [string, Promise<EditCase>])[] = [
  ['colour', colourCase(SEED, { count: 1 })],
  ['one-of-two', colourCase(SEED + 1, { count: 2 })],
  ['named-background', colourCase(SEED + 2, { count: 1, background: { kind: 'named', name: 'gray' } })],
  ['shape', shapeCase(SEED + 3, 'circle', 'square', { count: 1 })],
];

await mkdir(OUT, { recursive: true });
const listed = [];
for (const [name, pending] of scenes) {
  const c = await pending;
  await writeFile(path.join(OUT, `${name}.png`), c.png);
  listed.push({ file: `${name}.png`, ref: c.ref, query: c.query, seed: 11, maskSeed: 7 });
}
await writeFile(path.join(OUT, 'scenes.json'), `${JSON.stringify(listed, null, 2)}\n`);
console.log(listed.map((s) => `${s.file}: "${s.ref}" -> "${s.query}"`).join('\n'));
