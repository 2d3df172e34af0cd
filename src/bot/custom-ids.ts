/**
 * Button custom_ids: "<action>:<jobId>", and "use<k>:<jobId>" for "Use k" under several candidates. The job id
 * points into the job store, so buttons keep working after a restart; nothing else is trusted from the id.
 */

/** What a button does. */
export type ButtonAction = 'reroll' | 'edit' | 'delete' | 'smaller' | 'larger' | 'use';

const ACTIONS: readonly ButtonAction[] = ['reroll', 'edit', 'delete', 'smaller', 'larger', 'use'];

/** A parsed custom_id. */
export interface ButtonId {
  readonly action: ButtonAction;
  readonly jobId: string;
  /** "Use k": the candidate, 1-based. */
  readonly candidate?: number;
}

/** The custom_id of a button (at most 100 characters, as Discord requires); `candidate` for "Use k" only. */
export function buttonId(action: ButtonAction, jobId: string, candidate?: number): string {
  const id = `${action}${action === 'use' ? String(candidate) : ''}:${jobId}`;
  if (id.length > 100) throw new RangeError(`custom_id too long: ${id.length}`);
  return id;
}

/** Parses a custom_id, or undefined when it is not one of ours. */
export function parseButtonId(customId: string): ButtonId | undefined {
  const match = /^([a-z]+)([1-9])?:([A-Za-z0-9_-]{1,64})$/.exec(customId);
  if (match === null) return undefined;
  const action = match[1] as ButtonAction;
  const jobId = match[3] as string;
  if (!ACTIONS.includes(action) || (action === 'use') !== (match[2] !== undefined)) return undefined;
  return action === 'use' ? { action, jobId, candidate: Number(match[2]) } : { action, jobId };
}
