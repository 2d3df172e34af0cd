/**
 * Edit cases on held-out demo scenes and how one is scored: shared by the quality tests
 * (test/engine/quality/demo-model.test.ts) and `npm run bench:quality`, so both judge the same way.
 */
import sharp from 'sharp';
import type { DiffEditEngine, EditRequest, EditResult } from '../../src/engine/engine.js';
import type { RgbImage } from '../../src/engine/image/index.js';
import { binary, coverage, dilate, iou, meanAbsDiff, outside, shareNearer } from './metrics.js';
import {
  COLORS,
  captionOf,
  namedRgb,
  renderScene,
  sampleScene,
  scenePng,
  type RenderedScene,
  type SceneObject,
  type SceneRequest,
  type Shape,
} from './scenes.js';

/** One edit to make on one scene: object `target` goes from `from` to `to` (colours, or shapes for shape edits). */
export interface EditCase {
  readonly seed: number;
  readonly kind: 'colour' | 'shape';
  readonly rendered: RenderedScene;
  readonly png: Buffer;
  readonly ref: string;
  readonly query: string;
  readonly target: number;
  readonly from: string;
  readonly to: string;
}

/** Seeds of held-out scenes start here (training draws its scenes from numpy generators seeded near 20261203). */
export const HELD_OUT_SEED = 9_000;

/** The colour farthest from `colour` among those that also stand out from the background (ties: seed order). */
function contrastingColour(colour: string, background: readonly number[], seed: number): string {
  const rgb = namedRgb(colour);
  const far = COLORS.filter((c) => {
    const other = namedRgb(c);
    const fromObject = Math.hypot(...other.map((v, i) => v - (rgb[i] ?? 0)));
    const fromBackground = Math.max(...other.map((v, i) => Math.abs(v - (background[i] ?? 0))));
    return c !== colour && fromObject > 0.6 && fromBackground > 0.3;
  });
  return far[seed % far.length] ?? COLORS.find((c) => c !== colour) ?? colour;
}

function backgroundName(rendered: RenderedScene): string | undefined {
  const bg = rendered.scene.background;
  return bg.kind === 'named' ? bg.name : undefined;
}

/** The mean colour of the background around the target, for picking a query colour that stands out. */
function backgroundMean(rendered: RenderedScene): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  const inAny = rendered.masks.reduce((acc, m) => acc.map((v, i) => v | (m[i] ?? 0)), new Uint8Array(rendered.size * rendered.size));
  for (let i = 0; i < inAny.length; i++) {
    if (inAny[i] !== 0) continue;
    for (let c = 0; c < 3; c++) sum[c] = (sum[c] ?? 0) + (rendered.rgb[i * 3 + c] ?? 0) / 255;
    n++;
  }
  return sum.map((s) => s / Math.max(1, n));
}

function editCase(seed: number, kind: EditCase['kind'], request: SceneRequest, change: (o: SceneObject) => Partial<SceneObject>): Promise<EditCase> {
  const rendered = renderScene(sampleScene(seed, request));
  const objects = rendered.scene.objects;
  const target = objects[0] as SceneObject;
  const edited = objects.map((o, i) => (i === 0 ? { ...o, ...change(o) } : o));
  const bg = backgroundName(rendered);
  const from = kind === 'colour' ? target.color : target.shape;
  const to = kind === 'colour' ? (edited[0] as SceneObject).color : (edited[0] as SceneObject).shape;
  return scenePng(rendered).then((png) => ({
    seed,
    kind,
    rendered,
    png,
    ref: captionOf(objects, bg),
    query: captionOf(edited, bg),
    target: 0,
    from,
    to,
  }));
}

/** "a red circle" -> "a blue circle" on a held-out scene (the first object changes; a second one must not). */
export function colourCase(seed: number, request: SceneRequest = {}): Promise<EditCase> {
  const rendered = renderScene(sampleScene(seed, request));
  const background = backgroundMean(rendered);
  return editCase(seed, 'colour', request, (o) => ({ color: contrastingColour(o.color, background, seed) }));
}

/** "a red circle" -> "a red square" on a held-out scene. */
export function shapeCase(seed: number, from: Shape, to: Shape, request: SceneRequest = {}): Promise<EditCase> {
  return editCase(seed, 'shape', { ...request, objects: [{ ...request.objects?.[0], shape: from }, ...(request.objects?.slice(1) ?? [])] }, () => ({
    shape: to,
  }));
}

/** How one edit did. */
export interface CaseScore {
  /** The mask vs the target object's ground truth. */
  readonly iou: number;
  /** Share of the picture the mask covers. */
  readonly coverage: number;
  /** Colour edits: share of the object's pixels now nearer the query colour than the ref colour; shape edits: NaN. */
  readonly success: number;
  /** Mean |output - input| (0..255) outside every object's ground truth dilated by 4 px: what changed that should not. */
  readonly background: number;
  readonly ms: number;
  readonly unetEvaluations: number;
}

/** The posted photo's pixels. */
export async function photoPixels(result: EditResult): Promise<RgbImage> {
  if (result.photo === undefined) throw new Error('the result has no full-size photo');
  const { data, info } = await sharp(result.photo.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** The case's picture as an RgbImage. */
export function inputPixels(c: EditCase): RgbImage {
  return { width: c.rendered.size, height: c.rendered.size, data: c.rendered.rgb };
}

/** Runs `c` through `engine` with `parameters` and scores it. */
export async function scoreCase(
  engine: DiffEditEngine,
  c: EditCase,
  parameters: Partial<EditRequest> = {},
): Promise<CaseScore & { result: EditResult }> {
  const result = await engine.run({ image: c.png, ref: c.ref, query: c.query, ...parameters });
  const mask = binary(result.mask);
  const truth = c.rendered.masks[c.target] as Uint8Array;
  const objects = c.rendered.masks.reduce((acc, m) => acc.map((v, i) => v | (m[i] ?? 0)), new Uint8Array(truth.length));
  const edited = result.output === undefined ? undefined : await photoPixels(result);
  return {
    result,
    iou: iou(mask, truth),
    coverage: coverage(mask),
    success: edited === undefined || c.kind !== 'colour' ? Number.NaN : shareNearer(edited, truth, c.to, c.from),
    background: edited === undefined ? Number.NaN : meanAbsDiff(edited, inputPixels(c), outside(dilate(objects, c.rendered.size, 4))),
    ms: result.timings.total,
    unetEvaluations: result.unetEvaluations,
  };
}
