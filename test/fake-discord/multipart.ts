/**
 * Request bodies as discord.js sends them: JSON, or multipart/form-data with `payload_json` plus `files[n]`
 * parts. Multipart parsing is the platform's (the global `Response#formData()` from undici), not hand-rolled.
 */

export interface UploadedFile {
  /** the form field name, e.g. `files[0]` */
  name: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: UploadedFile[];
}

export class BodyParseError extends Error {}

export async function parseBody(contentType: string | undefined, body: Buffer): Promise<ParsedBody> {
  if (body.length === 0) return { json: undefined, files: [] };
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') {
    try {
      return { json: JSON.parse(body.toString('utf8')) as unknown, files: [] };
    } catch (error) {
      throw new BodyParseError(`invalid JSON body: ${String(error)}`);
    }
  }
  if (type === 'multipart/form-data') {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': contentType ?? '' } }).formData();
    } catch (error) {
      throw new BodyParseError(`invalid multipart body: ${String(error)}`);
    }
    let json: unknown;
    const files: UploadedFile[] = [];
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') {
        if (name === 'payload_json') {
          try {
            json = JSON.parse(value) as unknown;
          } catch (error) {
            throw new BodyParseError(`invalid payload_json: ${String(error)}`);
          }
        }
        continue;
      }
      files.push({
        name,
        filename: value.name,
        contentType: value.type || 'application/octet-stream',
        data: Buffer.from(await value.arrayBuffer()),
      });
    }
    return { json, files };
  }
  // Anything else (discord.js never sends it): keep the text so a test can see what arrived.
  return { json: body.toString('utf8'), files: [] };
}

/** The attachment index a multipart field refers to: `files[3]` -> 3, `file` -> 0. */
export function fileIndex(file: UploadedFile, position: number): number {
  const match = /^files\[(\d+)\]$/.exec(file.name);
  return match?.[1] !== undefined ? Number(match[1]) : position;
}
