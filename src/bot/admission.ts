/**
 * Admission: everything that can be refused from what the interaction says alone (prompts, parameters, the
 * attachment's declared type, size and dimensions) is refused here, before anything public is posted. Queue caps
 * come next, when the job reserves its place.
 */
import type { PackedMask } from '../engine/diffedit/packed-mask.js';
import { resolveParameters, resolveVariations, validatePrompts, type EditParameters } from '../engine/parameters.js';
import { checkAttachment, effectiveMaxBytes, type AttachmentInfo, type AttachmentLimits } from './attachments.js';

/** Where the picture comes from: a fresh attachment, or a stored job's bytes (buttons). */
export type ImageSource =
  | { readonly kind: 'attachment'; readonly info: AttachmentInfo; readonly limits: AttachmentLimits }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

/** Who a job belongs to and where it was asked for. */
export interface JobOwner {
  /** Who asked (typed the command or pressed the button): the job is theirs. */
  readonly userId: string;
  /** Who brought the picture: the same user for a command, the first job's author for a button. */
  readonly sourceUserId: string;
  readonly channelId: string;
  readonly guildId: string | null;
}

/** What a user asked for, before checks. */
export interface JobAsk {
  readonly kind: 'diffedit' | 'mask';
  readonly ref: string;
  readonly query: string;
  readonly parameters: Partial<EditParameters>;
  /** Candidates to decode; undefined: the engine's default (VARIATIONS_DEFAULT, by its provider). */
  readonly variations?: number | undefined;
  readonly image:
    | { readonly kind: 'attachment'; readonly info: AttachmentInfo; readonly sizeLimit: number | undefined }
    | { readonly kind: 'bytes'; readonly bytes: Uint8Array };
}

/** An admitted job: clean prompts, every parameter resolved (the seed fixed now, so the one shown is the one used). */
export interface JobPlan {
  readonly kind: 'diffedit' | 'mask';
  readonly ref: string;
  readonly query: string;
  readonly parameters: EditParameters;
  readonly image: ImageSource;
  readonly owner: JobOwner;
  /** The stored mask to edit with ("Edit with this mask"), instead of computing one. */
  readonly latentMask?: PackedMask;
  /** Candidates to decode (checked); undefined: the engine's default. */
  readonly variations?: number;
}

/** Checks `ask`; throws the typed error a user should read. */
export function admit(ask: JobAsk, owner: JobOwner, limits: AttachmentLimits): JobPlan {
  const prompts = validatePrompts(ask.ref, ask.query);
  const parameters = resolveParameters(ask.parameters);
  // Checked here when given, so that a bad number is refused before anything public; the default is the engine's.
  const variations = ask.variations === undefined ? {} : { variations: resolveVariations(ask.variations, 1) };
  let image: ImageSource;
  if (ask.image.kind === 'attachment') {
    checkAttachment(ask.image.info, limits, ask.image.sizeLimit);
    image = { kind: 'attachment', info: ask.image.info, limits: { ...limits, maxBytes: effectiveMaxBytes(limits, ask.image.sizeLimit) } };
  } else {
    image = ask.image;
  }
  return { kind: ask.kind, ...prompts, parameters, ...variations, image, owner };
}
