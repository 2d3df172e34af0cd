/**
 * Named model sources for `npm run models`: which hub repository and revision hold an ONNX export the engine
 * loads, in which file layout, and what it is for. Repositories move or vanish (runwayml's were taken down; the
 * maintained stable-diffusion-v1-5/stable-diffusion-inpainting is a fresh upload without an `onnx` branch), so a
 * "not found" names the other presets instead of leaving the user to search the hub.
 */
import { DiffEditError, ErrorCode, isDiffEditError } from '../errors.js';
import { ALL_COMPONENTS, INPAINT_COMPONENTS, type ModelComponent } from './select-files.js';

/** What the engine uses a source for. */
export type PresetRole = 'standard' | 'inpainting';

/**
 * How a revision stores its models: 'diffusers-onnx' = the legacy diffusers ONNX branches (`<part>/model.onnx`,
 * the UNet's weights in `unet/weights.pb`); 'optimum' = `optimum-cli export onnx` (`model.onnx` + `model.onnx_data`).
 */
export type PresetLayout = 'diffusers-onnx' | 'optimum';

/** One named source. */
export interface ModelPreset {
  readonly repo: string;
  readonly revision: string;
  readonly role: PresetRole;
  readonly layout: PresetLayout;
  /** One line for the usage text and hints. */
  readonly about: string;
}

/** Every preset, by name; the first of each role is its default (see HUB_DEFAULTS). */
export const MODEL_PRESETS = {
  sd15: {
    repo: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
    revision: 'onnx',
    role: 'standard',
    layout: 'diffusers-onnx',
    about: "SD 1.5 (the maintained copy of runwayml's), its diffusers ONNX branch",
  },
  'sd15-community': {
    repo: 'onnx-community/stable-diffusion-v1-5-ONNX',
    revision: 'main',
    role: 'standard',
    layout: 'diffusers-onnx',
    about: 'SD 1.5 as exported by the onnx-community organisation',
  },
  sdxl: {
    repo: 'stabilityai/stable-diffusion-xl-base-1.0',
    revision: 'main',
    role: 'standard',
    layout: 'optimum',
    about: 'SDXL base 1.0: its ONNX export beside the PyTorch weights (~13 GB of ONNX; 1024 px; a GPU is advised)',
  },
  'sd15-inpainting': {
    repo: 'botp/stable-diffusion-v1-5-inpainting',
    revision: 'onnx',
    role: 'inpainting',
    layout: 'diffusers-onnx',
    about: "SD 1.5 inpainting (9-channel UNet), the copy diffusers' own ONNX tests use",
  },
} as const satisfies Record<string, ModelPreset>;

/** A preset's name. */
export type PresetName = keyof typeof MODEL_PRESETS;

/** The names of the presets for `role`, in table order. */
export function presetNames(role: PresetRole): PresetName[] {
  return (Object.keys(MODEL_PRESETS) as PresetName[]).filter((name) => MODEL_PRESETS[name].role === role);
}

/** The preset called `name`, checked to serve `role`; `option` names the flag or variable in the error. */
export function findPreset(name: string, role: PresetRole, option: string): ModelPreset {
  const preset: ModelPreset | undefined = Object.hasOwn(MODEL_PRESETS, name) ? MODEL_PRESETS[name as PresetName] : undefined;
  if (preset?.role === role) return preset;
  const why = preset === undefined ? 'is not a preset' : `is ${preset.role === 'inpainting' ? 'an inpainting' : 'a standard'} preset`;
  throw new DiffEditError(ErrorCode.InvalidOption, `${option} "${name}" ${why}; use one of ${presetNames(role).join(', ')}.`, {
    option,
    value: name,
  });
}

/** The export folders a source of `role` lends the engine. */
export function componentsFor(role: PresetRole): readonly ModelComponent[] {
  return role === 'inpainting' ? INPAINT_COMPONENTS : ALL_COMPONENTS;
}

/** The usage text's lines for the presets of `role`: the name and source, then what it is. */
export function presetLines(role: PresetRole): string[] {
  return presetNames(role).flatMap((name) => {
    const p = MODEL_PRESETS[name];
    return [`${name.padEnd(16)} ${p.repo}@${p.revision}`, `${' '.repeat(16)} ${p.about}`];
  });
}

/**
 * `error` with the other presets of `role` named, when it says that `repo@revision` is no source: it does not
 * exist on the hub (a missing repository or revision, not a missing file) or holds no ONNX export; any other
 * error unchanged.
 */
export function withPresetHint(error: unknown, role: PresetRole, source: { readonly repo: string; readonly revision: string }): unknown {
  if (!isDiffEditError(error)) return error;
  const reason = error.details['reason'];
  if (!((reason === 'not-found' && error.details['file'] === undefined) || reason === 'not-onnx')) return error;
  const others = presetNames(role).filter((name) => {
    const p = MODEL_PRESETS[name];
    return p.repo !== source.repo || p.revision !== source.revision;
  });
  if (others.length === 0) return error;
  const flag = role === 'inpainting' ? '--inpaint-preset' : '--preset';
  const list = others.map((name) => `${flag} ${name} (${MODEL_PRESETS[name].repo}@${MODEL_PRESETS[name].revision})`).join(', ');
  return new DiffEditError(
    ErrorCode.DownloadFailed,
    `${error.message} Known sources: ${list}.`,
    { ...error.details, alternatives: others },
    { cause: error },
  );
}
