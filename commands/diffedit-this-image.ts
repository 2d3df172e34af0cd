/**
 * "DiffEdit this image", a message context-menu command: right-click a message that holds a picture, fill in a
 * modal (ref and query, and optional strength, variations and seed whose placeholders show the defaults), and the
 * same job as /diffedit runs on the picture already in the channel, without uploading it again.
 *
 * Discord allows five fields in a modal: the two prompts take two, and of /diffedit's options the form offers the
 * three a right-click user most often wants: strength, the number of candidates to choose from, and the seed (to
 * repeat a result). Guidance, steps, the mask seed and the area stay /diffedit's (the area also has its buttons).
 *
 * The modal's custom_id names the picture (channel, message, attachment): the submit handler fetches the message
 * again, because the URL the menu saw is signed by Discord's CDN and may have expired while the user typed.
 */
import {
  ApplicationCommandType,
  ComponentType,
  ContextMenuCommandBuilder,
  LabelBuilder,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type Attachment,
  type Message,
  type ModalSubmitInteraction,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import { isAcceptedImage } from '../src/bot/attachments.js';
import { EDITED_PHOTO_NAME } from '../src/bot/result-message.js';
import { DiffEditError, ErrorCode } from '../src/errors.js';
import { DEFAULT_PARAMETERS, MAX_PROMPT_CHARS, PARAMETER_RANGES, VARIATIONS_RANGE, type EditParameters } from '../src/engine/parameters.js';
import { definedOnly } from '../src/util/objects.js';
import { OPTION } from './options.js';

/** The command's name, as the menu shows it and Discord sends it back. */
export const DIFFEDIT_THIS_IMAGE_COMMAND = 'DiffEdit this image';

/** The definition `npm run deploy-commands` registers: a message command (type 3), which has no options. */
export const diffeditThisImageDefinition: RESTPostAPIContextMenuApplicationCommandsJSONBody = new ContextMenuCommandBuilder()
  .setName(DIFFEDIT_THIS_IMAGE_COMMAND)
  .setType(ApplicationCommandType.Message)
  .toJSON();

/** Where the picture is: enough to find it again when the modal comes back. */
export interface PictureLocation {
  readonly channelId: string;
  readonly messageId: string;
  readonly attachmentId: string;
}

const MODAL_PREFIX = 'diffedit-image';
const MODAL_ID = new RegExp(`^${MODAL_PREFIX}:(\\d{1,20}):(\\d{1,20}):(\\d{1,20})$`);

/** The modal's custom_id: "diffedit-image:<channel>:<message>:<attachment>" (at most 77 of Discord's 100 characters). */
export function pictureModalId(location: PictureLocation): string {
  return `${MODAL_PREFIX}:${location.channelId}:${location.messageId}:${location.attachmentId}`;
}

/** Parses a modal custom_id, or undefined when it is not one of this command's. */
export function parsePictureModalId(customId: string): PictureLocation | undefined {
  const match = MODAL_ID.exec(customId);
  if (match === null) return undefined;
  const [, channelId = '', messageId = '', attachmentId = ''] = match;
  return { channelId, messageId, attachmentId };
}

/**
 * The picture of `message` to edit, judged as admission judges types: on one of our results the edited photo (its
 * first attachment is the three-panel strip, which nobody means to edit), else the first picture.
 */
export function findPicture(message: Pick<Message, 'attachments'>): Attachment | undefined {
  const pictures = message.attachments.filter((attachment) => isAcceptedImage({ contentType: attachment.contentType, filename: attachment.name }));
  return pictures.find((attachment) => attachment.name.startsWith(`${EDITED_PHOTO_NAME}.`)) ?? pictures.first();
}

/** The two prompts, required; their placeholders are examples. */
const PROMPT_FIELDS = [
  {
    name: OPTION.ref,
    label: 'ref: what the picture shows now',
    description: 'Describe the part to change as it looks now',
    placeholder: 'a bowl of strawberries',
  },
  { name: OPTION.query, label: 'query: what it should show', description: 'The same description, changed', placeholder: 'a bowl of grapes' },
] as const;

/** The optional numeric fields: the defaults a user would otherwise not see are their placeholders. */
const NUMBER_FIELDS = [
  {
    name: OPTION.strength,
    label: 'Strength',
    description: `How far to re-draw, ${PARAMETER_RANGES.strength.min}-${PARAMETER_RANGES.strength.max}: higher changes more`,
    placeholder: `${DEFAULT_PARAMETERS.strength} (default)`,
  },
  {
    name: OPTION.variations,
    label: 'Variations',
    description: `Candidates to choose from, ${VARIATIONS_RANGE.min}-${VARIATIONS_RANGE.max}`,
    placeholder: 'the bot’s (default)',
  },
  {
    name: OPTION.seed,
    label: 'Seed',
    description: 'The same seed gives the same result',
    placeholder: 'random (default)',
  },
] as const satisfies readonly {
  name: NumberField;
  label: string;
  description: string;
  placeholder: string;
}[];

/** The numeric fields a form may hold: edit parameters, and the number of candidates. */
type NumberField = (keyof typeof PARAMETER_RANGES & keyof EditParameters) | typeof OPTION.variations;

/** Each numeric field's range, for the message that refuses what is not a number. */
const FIELD_RANGES: Record<keyof typeof PARAMETER_RANGES | typeof OPTION.variations, { min: number; max: number; integer: boolean }> = {
  ...PARAMETER_RANGES,
  variations: VARIATIONS_RANGE,
};

/** Room for any accepted value as typed ("4294967295", "0.123456"), not for essays. */
const NUMBER_MAX_CHARS = 16;

/** The modal that asks for the prompts: two required fields, three optional ones (Discord allows five). */
export function pictureModal(location: PictureLocation): ModalBuilder {
  return new ModalBuilder()
    .setCustomId(pictureModalId(location))
    .setTitle(DIFFEDIT_THIS_IMAGE_COMMAND)
    .addLabelComponents(
      ...PROMPT_FIELDS.map((field) => textField(field, true, MAX_PROMPT_CHARS)),
      ...NUMBER_FIELDS.map((field) => textField(field, false, NUMBER_MAX_CHARS)),
    );
}

/** One labelled one-line text input. */
function textField(
  field: { name: string; label: string; description: string; placeholder: string },
  required: boolean,
  maxLength: number,
): LabelBuilder {
  return new LabelBuilder()
    .setLabel(field.label)
    .setDescription(field.description)
    .setTextInputComponent(
      new TextInputBuilder()
        .setCustomId(field.name)
        .setStyle(TextInputStyle.Short)
        .setRequired(required)
        .setMaxLength(maxLength)
        .setPlaceholder(field.placeholder),
    );
}

/** What the modal said: the prompts, the parameters and the candidates typed (ranges are admission's to check). */
export interface PictureModalFields {
  readonly ref: string;
  readonly query: string;
  readonly parameters: Partial<EditParameters>;
  readonly variations?: number;
}

/**
 * Reads the submitted modal. A required field missing (a modal from before a deploy) is a StaleCommand; text that
 * is not a number in a numeric field is an InvalidOption naming the field and what it accepts.
 */
export function readPictureModal(interaction: ModalSubmitInteraction): PictureModalFields {
  const text = (name: string): string | undefined => {
    const field = interaction.fields.fields.get(name);
    if (field === undefined) return undefined;
    const value = 'value' in field ? field.value : undefined;
    if (field.type !== ComponentType.TextInput || typeof value !== 'string') throw staleModal(name);
    return value;
  };
  const required = (name: string): string => {
    const value = text(name);
    if (value === undefined) throw staleModal(name);
    return value;
  };
  const { variations, ...parameters } = Object.fromEntries(NUMBER_FIELDS.map((field) => [field.name, parseNumber(field.name, text(field.name))]));
  return {
    ref: required(OPTION.ref),
    query: required(OPTION.query),
    parameters: definedOnly(parameters),
    ...definedOnly({ variations }),
  };
}

/** A typed number, or undefined when left empty; a decimal comma is accepted ("0,6"). */
export function parseNumber(name: keyof typeof FIELD_RANGES, typed: string | undefined): number | undefined {
  const trimmed = typed?.trim() ?? '';
  if (trimmed === '') return undefined;
  if (!/^[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$/.test(trimmed)) {
    const range = FIELD_RANGES[name];
    const shown = trimmed.length > 20 ? `${trimmed.slice(0, 17)}...` : trimmed;
    throw new DiffEditError(
      ErrorCode.InvalidOption,
      `${name} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}; "${shown}" is not a number.`,
      { option: name, typed: shown },
    );
  }
  return Number(trimmed.replace(',', '.'));
}

function staleModal(field: string): DiffEditError {
  return new DiffEditError(
    ErrorCode.StaleCommand,
    `This form is out of date (its \`${field}\` field is missing). Use "${DIFFEDIT_THIS_IMAGE_COMMAND}" on the message again.`,
    { command: DIFFEDIT_THIS_IMAGE_COMMAND, field },
  );
}
