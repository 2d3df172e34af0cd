/**
 * The text of every message the bot writes: queue positions, progress lines, result lines. Pure functions,
 * so wording and limits are tested without Discord.
 */
import type { Progress } from '../engine/diffedit/progress.js';

const PHASE_LABEL: Record<Progress['phase'], string> = {
  mask: 'Finding where to edit',
  invert: 'Encoding the photo',
  decode: 'Re-drawing',
  render: 'Rendering',
};

/** Discord's limit on message content. */
export const MAX_CONTENT = 2000;

/** "#3 in queue" (1 means next, or running). */
export function queueLine(position: number): string {
  return position <= 1 ? 'Starting...' : `#${position} in queue`;
}

/** A text progress bar: `[#####-----] 50%`. */
export function progressBar(done: number, total: number, width = 20): string {
  const fraction = total <= 0 ? 0 : Math.min(Math.max(done / total, 0), 1);
  const filled = Math.round(fraction * width);
  return `\`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]\` ${Math.round(fraction * 100)}%`;
}

/** "Re-drawing (step 12/40) `[######--------------]` 30%". */
export function progressLine(progress: Progress): string {
  return `${PHASE_LABEL[progress.phase]} (step ${progress.step}/${progress.total}) ${progressBar(progress.step, progress.total)}`;
}

/** Inputs of a result line. */
export interface ResultSummary {
  readonly kind: 'diffedit' | 'mask';
  readonly ref: string;
  readonly query: string;
  /** The edit seed: what the masked region became. */
  readonly seed: number;
  /** The mask seed: which region was edited. */
  readonly maskSeed: number;
  readonly steps: number;
  readonly seconds: number;
  readonly coverage: number;
  /** The region's size step (0: automatic); absent: 0. */
  readonly area?: number | undefined;
  /** Each candidate's edit seed, when there are several (the line lists them instead of the one seed). */
  readonly seeds?: readonly number[] | undefined;
  /** Mentions the user when the result is posted in the channel instead of as the interaction's reply. */
  readonly mentionUserId?: string | undefined;
  readonly warnings?: readonly string[] | undefined;
}

/**
 * "**strawberries** -> **grapes** | seed 42 | mask seed 7 | 50 steps | 12.3 s | area: 25% of the picture"; with
 * several candidates "seeds 42, 43, 44"; a mask's line starts with its size: "mask covers 25%".
 */
export function resultLine(summary: ResultSummary): string {
  const prompts = `**${inline(summary.ref)}** -> **${inline(summary.query)}**`;
  const percent = `${Math.round(summary.coverage * 100)}%`;
  const step = summary.area === undefined || summary.area === 0 ? '' : ` (${areaStep(summary.area)})`;
  const seeds = summary.seeds !== undefined && summary.seeds.length > 1 ? `seeds ${summary.seeds.join(', ')}` : `seed ${summary.seed}`;
  const facts =
    summary.kind === 'mask'
      ? [`mask covers ${percent}${step}`, `mask seed ${summary.maskSeed}`, `${summary.seconds.toFixed(1)} s`]
      : [
          seeds,
          `mask seed ${summary.maskSeed}`,
          `${summary.steps} steps`,
          `${summary.seconds.toFixed(1)} s`,
          `area: ${percent} of the picture${step}`,
        ];
  const lines = [`${summary.mentionUserId !== undefined ? `<@${summary.mentionUserId}> ` : ''}${prompts} | ${facts.join(' | ')}`];
  for (const warning of summary.warnings ?? []) lines.push(`-# ${warning}`);
  return truncate(lines.join('\n'), MAX_CONTENT);
}

/** "area +2", "area -1": a region size step as the line and the refusals name it. */
export function areaStep(step: number): string {
  return `area ${step > 0 ? '+' : ''}${step}`;
}

/** The line of a candidate posted on its own ("Use k"). */
export function candidateLine(summary: { ref: string; query: string; index: number; count: number; seed: number; maskSeed: number }): string {
  const { index, count, seed, maskSeed } = summary;
  return truncate(
    `**${inline(summary.ref)}** -> **${inline(summary.query)}** | candidate ${index} of ${count} | seed ${seed} | mask seed ${maskSeed}`,
    MAX_CONTENT,
  );
}

/** The small line under a result delivered late (kept undelivered, or finished while the bot restarted). */
export function lateNote(kind: 'diffedit' | 'mask', createdAt: number): string {
  return `Your ${kind === 'mask' ? 'mask' : 'edit'} from <t:${Math.floor(createdAt / 1000)}:R>: I could not deliver it then.`;
}

/** The line of a late result kept by bot versions that kept only its panel: what its stored job still tells. */
export function lateResultLine(summary: { kind: 'diffedit' | 'mask'; ref: string; query: string; seed: unknown; createdAt: number }): string {
  const seed = typeof summary.seed === 'number' ? ` | seed ${summary.seed}` : '';
  return truncate(`**${inline(summary.ref)}** -> **${inline(summary.query)}**${seed}\n-# ${lateNote(summary.kind, summary.createdAt)}`, MAX_CONTENT);
}

/** Prompts are user text: keep them on one line, without markdown that would break the bold, and short. */
function inline(text: string): string {
  return truncate(
    text.replace(/\s+/g, ' ').replace(/[*_`~|\\]/g, (c) => `\\${c}`),
    300,
  );
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
