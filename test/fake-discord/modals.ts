/**
 * Modals: validating a MODAL callback (type 9) as Discord does, and the submission a user's client sends back for
 * it (an INTERACTION_CREATE of type 5 whose components mirror the modal's, each text input carrying its value).
 */
import {
  ComponentType,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type APIModalSubmissionComponent,
  type APIModalSubmitTextInputComponent,
  type APITextInputComponent,
} from 'discord-api-types/v10';
import { Errors } from './state.js';

/** A modal as the fake keeps it: Discord's ids filled in (sequentially, depth first, where the bot gave none). */
export type RecordedModal = APIModalInteractionResponseCallbackData;

const fieldError = (code: string, message: string) => ({ _errors: [{ code, message }] });

/** Checks what Discord checks of a modal (the limits in its docs); answers 400 50035 with the offending path. */
export function validateModal(data: unknown): RecordedModal {
  const modal = (data ?? {}) as { custom_id?: unknown; title?: unknown; components?: unknown };
  const errors: Record<string, unknown> = {};
  if (typeof modal.custom_id !== 'string' || modal.custom_id.length < 1 || modal.custom_id.length > 100) {
    errors['custom_id'] = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  }
  if (typeof modal.title !== 'string' || modal.title.length < 1 || modal.title.length > 45) {
    errors['title'] = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.');
  }
  const components = Array.isArray(modal.components) ? (modal.components as unknown[]) : [];
  if (components.length < 1 || components.length > 5) {
    errors['components'] = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  } else {
    const componentErrors: Record<string, unknown> = {};
    const seen = new Set<string>();
    components.forEach((component, index) => {
      const error = topLevelError(component, seen);
      if (error !== undefined) componentErrors[index] = error;
    });
    if (Object.keys(componentErrors).length > 0) errors['components'] = componentErrors;
  }
  if (Object.keys(errors).length > 0) throw Errors.invalidForm({ data: errors });
  const recorded = structuredClone(data) as RecordedModal;
  assignIds(recorded);
  return recorded;
}

/** A label (label 1-45, description <= 100) around one text input, or a deprecated action row holding one. */
function topLevelError(component: unknown, seen: Set<string>): unknown {
  const c = (component ?? {}) as { type?: unknown; label?: unknown; description?: unknown; component?: unknown; components?: unknown };
  if (c.type === ComponentType.TextDisplay) return undefined;
  if (c.type === ComponentType.Label) {
    if (typeof c.label !== 'string' || c.label.length < 1 || c.label.length > 45) {
      return { label: fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.') };
    }
    if (c.description !== undefined && (typeof c.description !== 'string' || c.description.length > 100)) {
      return { description: fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.') };
    }
    const inner = textInputError(c.component, seen, false);
    return inner === undefined ? undefined : { component: inner };
  }
  if (c.type === ComponentType.ActionRow) {
    if (!Array.isArray(c.components) || c.components.length !== 1) {
      return { components: fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 1 in length.') };
    }
    const inner = textInputError(c.components[0], seen, true);
    return inner === undefined ? undefined : { components: { 0: inner } };
  }
  return { type: fieldError('UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1, 10, 18).') };
}

/** The text inputs this fake supports (Discord also takes selects, file uploads, radio groups and checkboxes). */
function textInputError(component: unknown, seen: Set<string>, inActionRow: boolean): unknown {
  const c = (component ?? {}) as Partial<Record<keyof APITextInputComponent, unknown>>;
  if (c.type !== ComponentType.TextInput) {
    return { type: fieldError('UNION_TYPE_CHOICES', 'This fake supports text inputs (type 4) only.') };
  }
  const lengthOk = (value: unknown, min: number, max: number) => value === undefined || (typeof value === 'number' && value >= min && value <= max);
  const textOk = (value: unknown, max: number) => value === undefined || (typeof value === 'string' && value.length <= max);
  if (typeof c.custom_id !== 'string' || c.custom_id.length < 1 || c.custom_id.length > 100) {
    return { custom_id: fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.') };
  }
  if (seen.has(c.custom_id)) return { custom_id: fieldError('COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated') };
  seen.add(c.custom_id);
  if (c.style !== TextInputStyle.Short && c.style !== TextInputStyle.Paragraph) {
    return { style: fieldError('BASE_TYPE_CHOICES', 'Value must be one of (1, 2).') };
  }
  // In an action row the input carries its own label; inside a label component it must not.
  if (inActionRow ? typeof c.label !== 'string' || c.label.length < 1 || c.label.length > 45 : c.label !== undefined) {
    return { label: fieldError(inActionRow ? 'BASE_TYPE_REQUIRED' : 'COMPONENT_LAYOUT_INVALID', 'Invalid label for this layout.') };
  }
  if (!lengthOk(c.min_length, 0, 4000)) return { min_length: fieldError('NUMBER_TYPE_MAX', 'Must be between 0 and 4000.') };
  if (!lengthOk(c.max_length, 1, 4000)) return { max_length: fieldError('NUMBER_TYPE_MAX', 'Must be between 1 and 4000.') };
  if (!textOk(c.placeholder, 100)) return { placeholder: fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.') };
  if (!textOk(c.value, 4000)) return { value: fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 4000 or fewer in length.') };
  return undefined;
}

/** Discord numbers components without an id sequentially, depth first, from 1. */
function assignIds(modal: RecordedModal): void {
  let next = 1;
  const visit = (component: { id?: number; component?: unknown; components?: unknown }) => {
    component.id ??= next;
    next = Math.max(next, component.id) + 1;
    if (component.component !== undefined) visit(component.component as typeof component);
    if (Array.isArray(component.components)) for (const child of component.components) visit(child as typeof component);
  };
  for (const component of modal.components) visit(component);
}

/** The text inputs of a modal, in order. */
export function textInputs(modal: RecordedModal): APITextInputComponent[] {
  return modal.components.flatMap((component): APITextInputComponent[] => {
    if (component.type === ComponentType.Label) return component.component.type === ComponentType.TextInput ? [component.component] : [];
    if (component.type === ComponentType.ActionRow) return component.components.filter((c) => c.type === ComponentType.TextInput);
    return [];
  });
}

/**
 * The components a client submits for `modal` with `values` typed in (by custom_id; others are left empty, as
 * Discord sends them). Refuses, as the client would, a required field left empty, an unknown field, or a value
 * outside the field's length limits.
 */
export function modalSubmission(modal: RecordedModal, values: Record<string, string>): APIModalSubmissionComponent[] {
  const inputs = textInputs(modal);
  for (const name of Object.keys(values)) {
    if (!inputs.some((input) => input.custom_id === name)) throw new Error(`submitModal: the modal has no text input '${name}'`);
  }
  const submitted = (input: APITextInputComponent): APIModalSubmitTextInputComponent => {
    const value = values[input.custom_id] ?? input.value ?? '';
    const required = input.required ?? true;
    if (required && value === '') throw new Error(`submitModal: '${input.custom_id}' is required`);
    if (value !== '' && (value.length < (input.min_length ?? 0) || value.length > (input.max_length ?? 4000))) {
      throw new Error(`submitModal: '${input.custom_id}' must be ${input.min_length ?? 0}-${input.max_length ?? 4000} characters`);
    }
    return { type: ComponentType.TextInput, id: input.id ?? 0, custom_id: input.custom_id, value };
  };
  return modal.components.map((component): APIModalSubmissionComponent => {
    if (component.type === ComponentType.Label) {
      if (component.component.type !== ComponentType.TextInput) throw new Error('submitModal: only text inputs are supported');
      return { type: ComponentType.Label, id: component.id ?? 0, component: submitted(component.component) };
    }
    if (component.type === ComponentType.ActionRow) {
      return { type: ComponentType.ActionRow, id: component.id ?? 0, components: component.components.map(submitted) };
    }
    return { type: ComponentType.TextDisplay, id: component.id ?? 0 };
  });
}
