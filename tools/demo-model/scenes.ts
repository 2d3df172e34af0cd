/**
 * The demo model's world in TypeScript: the same scenes train.py learns from (scene-spec.json is the one source of
 * shapes, colours, sizes and background kinds; the rendering rule is scenes.py's), drawn here from seeds of the
 * caller's, so tests and benchmarks judge the model on scenes it never saw, with each object's ground-truth mask.
 *
 * Rendering rule (as scenes.py): a shape is a signed distance d in pixels (positive inside) at pixel centres; its
 * coverage is clamp(d + 0.5, 0, 1); the pixel is colour * coverage + below * (1 - coverage). An object's
 * ground-truth mask is coverage > 0.5.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { Random } from '../tiny-models/random.js';

interface SceneSpec {
  readonly size: number;
  readonly shapes: readonly Shape[];
  readonly colors: Readonly<Record<string, readonly [number, number, number]>>;
  readonly backgrounds: Readonly<Record<string, readonly [number, number, number]>>;
  readonly objectRadius: readonly [number, number];
  readonly colorJitter: number;
  readonly textureGrid: number;
}

export type Shape = 'circle' | 'square' | 'triangle' | 'diamond';
type Rgb = readonly [number, number, number];

export const SCENE_SPEC = JSON.parse(readFileSync(new URL('./scene-spec.json', import.meta.url), 'utf8')) as SceneSpec;
export const SHAPES: readonly Shape[] = SCENE_SPEC.shapes;
export const COLORS: readonly string[] = Object.keys(SCENE_SPEC.colors);
export const BACKGROUND_NAMES: readonly string[] = Object.keys(SCENE_SPEC.backgrounds);

/** One object of a scene. */
export interface SceneObject {
  readonly shape: Shape;
  readonly color: string;
  /** The colour drawn (the named colour with a small jitter), 0..1 per channel. */
  readonly rgb: Rgb;
  readonly r: number;
  readonly cx: number;
  readonly cy: number;
}

/** What a scene's background is. */
export type Background =
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'plain'; readonly rgb: Rgb }
  | { readonly kind: 'gradient'; readonly from: Rgb; readonly to: Rgb; readonly angle: number }
  | { readonly kind: 'texture'; readonly grid: readonly Rgb[] };

export interface Scene {
  readonly background: Background;
  readonly objects: readonly SceneObject[];
}

/** A rendered scene: RGB bytes (size x size x 3) and one ground-truth mask per object (1 inside). */
export interface RenderedScene {
  readonly scene: Scene;
  readonly size: number;
  readonly rgb: Uint8Array;
  readonly masks: readonly Uint8Array[];
}

/** Signed distance (positive inside) of `shape` of size `r` at offset (dx, dy) from its centre (y grows down). */
export function shapeDistance(shape: Shape, dx: number, dy: number, r: number): number {
  switch (shape) {
    case 'circle':
      return r - Math.hypot(dx, dy);
    case 'square':
      return 0.85 * r - Math.max(Math.abs(dx), Math.abs(dy));
    case 'triangle': {
      // Equilateral, pointing up, circumradius r: three half-planes at the inradius r / 2.
      let d = Infinity;
      for (const degrees of [90, -30, 210]) {
        const a = (degrees * Math.PI) / 180;
        d = Math.min(d, r / 2 - (dx * Math.cos(a) + dy * Math.sin(a)));
      }
      return d;
    }
    case 'diamond':
      return (r - (Math.abs(dx) + Math.abs(dy))) / Math.SQRT2;
  }
}

export function namedRgb(color: string): Rgb {
  const rgb = SCENE_SPEC.colors[color] ?? SCENE_SPEC.backgrounds[color];
  if (rgb === undefined) throw new Error(`unknown colour ${color}`);
  return rgb;
}

/** The caption the model was trained on, objects in the given order; with the background's name when asked. */
export function captionOf(objects: readonly Pick<SceneObject, 'shape' | 'color'>[], background?: string): string {
  const text = objects.map((o) => `a ${o.color} ${o.shape}`).join(' and ');
  return background === undefined ? text : `${text} on a ${background} background`;
}

/** What a scene may hold, for tests that need a particular one; unset parts are drawn at random. */
export type ObjectRequest = Partial<Pick<SceneObject, 'shape' | 'color' | 'r' | 'cx' | 'cy'>>;

export interface SceneRequest {
  readonly background?: Background;
  readonly objects?: readonly ObjectRequest[];
  /** How many objects when `objects` is not given (default: 1 or 2 at random, as in training). */
  readonly count?: 1 | 2;
}

/** Draws a scene from `seed` (training uses other seeds in Python: these scenes are held out). */
export function sampleScene(seed: number, request: SceneRequest = {}): Scene {
  const rng = new Random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng.uniform() * list.length)] as T;
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
  const rgb = (lo: number, hi: number): Rgb => [uniform(lo, hi), uniform(lo, hi), uniform(lo, hi)];
  const background = request.background ?? randomBackground();
  const base = backgroundMean(background);
  const size = SCENE_SPEC.size;
  const [rMin, rMax] = SCENE_SPEC.objectRadius;
  const wanted: readonly ObjectRequest[] = request.objects ?? Array.from({ length: request.count ?? (rng.uniform() < 0.6 ? 1 : 2) }, () => ({}));
  const objects: SceneObject[] = [];
  for (const want of wanted) {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 10_000) throw new Error('sampleScene: no room for the requested objects');
      const color = want.color ?? pick(COLORS);
      const named = namedRgb(color);
      if (want.color === undefined && Math.max(...named.map((c, i) => Math.abs(c - (base[i] ?? 0)))) < 0.3) continue;
      const r = want.r ?? uniform(rMin, rMax);
      const cx = want.cx ?? uniform(r + 2, size - r - 2);
      const cy = want.cy ?? uniform(r + 2, size - r - 2);
      if (objects.some((o) => Math.hypot(cx - o.cx, cy - o.cy) < r + o.r + 4)) continue;
      const j = SCENE_SPEC.colorJitter;
      const jittered = named.map((c) => Math.min(1, Math.max(0, c + uniform(-j, j)))) as unknown as Rgb;
      objects.push({ shape: want.shape ?? pick(SHAPES), color, rgb: jittered, r, cx, cy });
      break;
    }
  }
  return { background, objects };

  function randomBackground(): Background {
    const u = rng.uniform();
    if (u < 0.35) return { kind: 'named', name: pick(BACKGROUND_NAMES) };
    if (u < 0.5) return { kind: 'plain', rgb: rgb(0.15, 0.9) };
    if (u < 0.75) return { kind: 'gradient', from: rgb(0.15, 0.9), to: rgb(0.15, 0.9), angle: uniform(0, 2 * Math.PI) };
    const mean = rgb(0.15, 0.9);
    const cells = SCENE_SPEC.textureGrid ** 2;
    const grid = Array.from({ length: cells }, () => mean.map((c) => Math.min(1, Math.max(0, c + uniform(-0.2, 0.2)))) as unknown as Rgb);
    return { kind: 'texture', grid };
  }
}

function backgroundMean(background: Background): Rgb {
  switch (background.kind) {
    case 'named':
      return namedRgb(background.name);
    case 'plain':
      return background.rgb;
    case 'gradient':
      return background.from;
    case 'texture': {
      const n = background.grid.length;
      return [0, 1, 2].map((c) => background.grid.reduce((s, g) => s + (g[c] ?? 0), 0) / n) as unknown as Rgb;
    }
  }
}

function backgroundAt(background: Background, x: number, y: number, size: number): Rgb {
  switch (background.kind) {
    case 'named':
      return namedRgb(background.name);
    case 'plain':
      return background.rgb;
    case 'gradient': {
      const t = Math.min(1, Math.max(0, ((x - size / 2) * Math.cos(background.angle) + (y - size / 2) * Math.sin(background.angle)) / size + 0.5));
      return [0, 1, 2].map((c) => (background.from[c] ?? 0) * (1 - t) + (background.to[c] ?? 0) * t) as unknown as Rgb;
    }
    case 'texture': {
      // Bilinear with align_corners=True, as torch's interpolate in scenes.py (pixel index, not centre).
      const g = SCENE_SPEC.textureGrid;
      const u = ((x - 0.5) / (size - 1)) * (g - 1);
      const v = ((y - 0.5) / (size - 1)) * (g - 1);
      const x0 = Math.min(g - 2, Math.floor(u));
      const y0 = Math.min(g - 2, Math.floor(v));
      const fx = u - x0;
      const fy = v - y0;
      const at = (gx: number, gy: number, c: number): number => background.grid[gy * g + gx]?.[c] ?? 0;
      return [0, 1, 2].map(
        (c) =>
          at(x0, y0, c) * (1 - fx) * (1 - fy) +
          at(x0 + 1, y0, c) * fx * (1 - fy) +
          at(x0, y0 + 1, c) * (1 - fx) * fy +
          at(x0 + 1, y0 + 1, c) * fx * fy,
      ) as unknown as Rgb;
    }
  }
}

/** Draws `scene` at the spec's size. */
export function renderScene(scene: Scene): RenderedScene {
  const size = SCENE_SPEC.size;
  const rgb = new Uint8Array(size * size * 3);
  const masks = scene.objects.map(() => new Uint8Array(size * size));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let colour = backgroundAt(scene.background, px, py, size);
      scene.objects.forEach((o, k) => {
        const cover = Math.min(1, Math.max(0, shapeDistance(o.shape, px - o.cx, py - o.cy, o.r) + 0.5));
        if (cover > 0.5) (masks[k] as Uint8Array)[y * size + x] = 1;
        colour = [0, 1, 2].map((c) => (o.rgb[c] ?? 0) * cover + (colour[c] ?? 0) * (1 - cover)) as unknown as Rgb;
      });
      for (let c = 0; c < 3; c++) rgb[(y * size + x) * 3 + c] = Math.round((colour[c] ?? 0) * 255);
    }
  }
  return { scene, size, rgb, masks };
}

/** A rendered scene as lossless PNG bytes (what a user would upload). */
export function scenePng(rendered: RenderedScene): Promise<Buffer> {
  return sharp(Buffer.from(rendered.rgb), { raw: { width: rendered.size, height: rendered.size, channels: 3 } })
    .png()
    .toBuffer();
}
