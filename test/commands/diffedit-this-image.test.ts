/** The pure parts of "DiffEdit this image": the modal's custom_id, the picture it picks, the numbers it reads. */
import { Attachment, Collection, type APIAttachment } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { findPicture, parseNumber, parsePictureModalId, pictureModal, pictureModalId } from '../../commands/diffedit-this-image.js';
import { isDiffEditError } from '../../src/errors.js';

const MAX_SNOWFLAKE = '18446744073709551615';

describe('the modal custom_id', () => {
  it.each([
    [{ channelId: '1', messageId: '2', attachmentId: '3' }],
    [{ channelId: MAX_SNOWFLAKE, messageId: MAX_SNOWFLAKE, attachmentId: MAX_SNOWFLAKE }],
  ])('round-trips %j within Discord’s 100 characters', (location) => {
    const id = pictureModalId(location);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(parsePictureModalId(id)).toEqual(location);
  });

  it.each(['reroll:abc', 'diffedit-image:1:2', 'diffedit-image:1:2:x', 'diffedit-image:1:2:3:4', `diffedit-image:1:2:${MAX_SNOWFLAKE}0`])(
    'refuses %s',
    (id) => expect(parsePictureModalId(id)).toBeUndefined(),
  );

  it('the modal keeps to Discord’s limits: five components, a 45-character title', () => {
    const modal = pictureModal({ channelId: MAX_SNOWFLAKE, messageId: MAX_SNOWFLAKE, attachmentId: MAX_SNOWFLAKE }).toJSON();
    expect(modal.components).toHaveLength(5);
    expect(modal.title.length).toBeLessThanOrEqual(45);
  });
});

describe('findPicture', () => {
  const attachment = (id: string, filename: string, contentType?: string): Attachment => {
    const data: APIAttachment = { id, filename, size: 10, url: `https://cdn.discordapp.com/attachments/1/${id}/${filename}`, proxy_url: '' };
    if (contentType !== undefined) data.content_type = contentType;
    return new (Attachment as unknown as new (data: APIAttachment) => Attachment)(data);
  };
  const message = (...attachments: Attachment[]) => ({ attachments: new Collection(attachments.map((a) => [a.id, a])) });

  it.each([
    [
      'the first picture, after other files',
      [attachment('1', 'a.txt', 'text/plain'), attachment('2', 'b.png', 'image/png'), attachment('3', 'c.jpg', 'image/jpeg')],
      '2',
    ],
    ['a type from the extension when none is declared', [attachment('1', 'a.tiff'), attachment('2', 'photo.JPEG')], '2'],
    ['the declared type over the extension', [attachment('1', 'a.png', 'image/tiff'), attachment('2', 'b.webp', 'image/webp; charset=x')], '2'],
    ['a GIF (its first frame is used)', [attachment('1', 'a.txt', 'text/plain'), attachment('2', 'anim.gif', 'image/gif')], '2'],
    [
      "on one of the bot's results, the edited photo rather than the panel",
      [attachment('1', 'diffedit.png', 'image/png'), attachment('2', 'edited.jpg', 'image/jpeg')],
      '2',
    ],
    ['nothing without a picture', [attachment('1', 'a.txt', 'text/plain'), attachment('2', 'logo.svg', 'image/svg+xml')], undefined],
    ['nothing without attachments', [], undefined],
  ])('%s', (_name, attachments, expected) => {
    expect(findPicture(message(...attachments))?.id).toBe(expected);
  });
});

describe('parseNumber', () => {
  it.each([
    ['strength', '0.6', 0.6],
    ['strength', ' 0,6 ', 0.6],
    ['strength', '.5', 0.5],
    ['strength', '1.', 1],
    ['guidance', '+7', 7],
    ['seed', '4294967295', 4294967295],
    ['seed', '', undefined],
    ['seed', '   ', undefined],
    ['seed', undefined, undefined],
    // Ranges and whole numbers are admission's (resolveParameters) to refuse, with its own messages.
    ['seed', '-5', -5],
    ['seed', '1.5', 1.5],
  ] as const)('%s "%s" -> %s', (name, typed, expected) => {
    expect(parseNumber(name, typed)).toBe(expected);
  });

  it.each([
    ['strength', 'lots', /strength must be a number from 0.05 to 1; "lots" is not a number/],
    ['seed', '0x10', /seed must be a whole number from 0 to 4294967295/],
    ['seed', '1e3', /seed must be a whole number/],
    ['guidance', '7.5.1', /guidance must be a number from 0 to 30/],
    ['guidance', 'Infinity', /not a number/],
    ['strength', 'x'.repeat(40), /"x{17}\.\.\." is not a number/],
  ] as const)('%s "%s" is refused', (name, typed, message) => {
    let caught: unknown;
    try {
      parseNumber(name, typed);
    } catch (error) {
      caught = error;
    }
    expect(isDiffEditError(caught, 'InvalidOption')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});
