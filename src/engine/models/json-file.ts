/**
 * JSON files of a model export (vocab.json, scheduler_config.json, config.json): a broken one is the export's
 * fault, so it is a contract mismatch naming the file, never a bare SyntaxError.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';

/** Parses `text`, the contents of `file`, which must hold a JSON object. */
export function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new DiffEditError(ErrorCode.ModelContractMismatch, `${file} is not valid JSON.`, { file }, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DiffEditError(ErrorCode.ModelContractMismatch, `${file} must hold a JSON object.`, { file });
  }
  return value as Record<string, unknown>;
}
