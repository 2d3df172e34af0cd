/**
 * Button custom_ids: "<action>:<jobId>". The job id points into the job store, so buttons keep working
 * after a restart; nothing else is trusted from the id.
 */

/** What a button does. */
export type ButtonAction = 'reroll' | 'edit' | 'delete';

const ACTIONS: readonly ButtonAction[] = ['reroll', 'edit', 'delete'];

/** A parsed custom_id. */
export interface ButtonId {
  readonly action: ButtonAction;
  readonly jobId: string;
}

/** The custom_id of a button (at most 100 characters, as Discord requires). */
export function buttonId(action: ButtonAction, jobId: string): string {
  const id = `${action}:${jobId}`;
  if (id.length > 100) throw new RangeError(`custom_id too long: ${id.length}`);
  return id;
}

/** Parses a custom_id, or undefined when it is not one of ours. */
export function parseButtonId(customId: string): ButtonId | undefined {
  const match = /^([a-z]+):([A-Za-z0-9_-]{1,64})$/.exec(customId);
  if (match === null) return undefined;
  const action = match[1] as ButtonAction;
  return ACTIONS.includes(action) ? { action, jobId: match[2] as string } : undefined;
}
