/**
 * Copies a graph's external-data initializers (weights.pb, model.onnx_data, or torch's one file per tensor) into
 * one new file next to the optimised model, tensor by tensor: only one tensor is ever in memory (the largest in
 * SD 1.5's UNet is 59 MB of its 3.4 GB), and initializers the passes dropped are not copied.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DiffEditError, ErrorCode } from '../errors.js';
import { DATA_LOCATION_EXTERNAL, type DataTypeCode, type GraphMessage, type TensorMessage } from '../onnx/proto.js';

/** Optional per-tensor conversion (fp16): new bytes and element type for a float tensor, or undefined to keep it. */
export type TensorTransform = (tensor: TensorMessage, bytes: Uint8Array) => { bytes: Uint8Array; dataType: DataTypeCode } | undefined;

/** What was copied. */
export interface ExternalCopy {
  /** The new file's name (relative to the model), or undefined when the graph has no external data. */
  readonly location: string | undefined;
  readonly tensors: number;
  readonly bytes: number;
}

const isExternal = (t: TensorMessage): boolean => t.data_location === DATA_LOCATION_EXTERNAL;

function entry(tensor: TensorMessage, key: string): string | undefined {
  return tensor.external_data?.find((e) => e.key === key)?.value;
}

/** The file name the copy uses: the source's, when all tensors share one; else optimum's name. */
export function targetLocation(graph: GraphMessage): string | undefined {
  const locations = new Set(graph.initializer.filter(isExternal).map((t) => entry(t, 'location') ?? ''));
  if (locations.size === 0) return undefined;
  const [only] = locations;
  return locations.size === 1 && only !== undefined && only !== '' && !only.includes('/') ? only : 'model.onnx_data';
}

/**
 * Copies the external tensors of `graph` from `sourceDir` into `targetDir`/location, rewriting their entries in
 * place (offsets, and element type when `transform` converts one). Inline initializers go through `transform` too.
 */
export async function copyExternalData(
  graph: GraphMessage,
  sourceDir: string,
  targetDir: string,
  transform?: TensorTransform,
): Promise<ExternalCopy> {
  for (const tensor of graph.initializer) if (!isExternal(tensor)) convertInline(tensor, transform);
  const location = targetLocation(graph);
  if (location === undefined) return { location, tensors: 0, bytes: 0 };
  const sources = new Map<string, FileHandle>();
  const target = await open(path.join(targetDir, location), 'w');
  let offset = 0;
  let tensors = 0;
  try {
    for (const tensor of graph.initializer.filter(isExternal)) {
      const raw = await readTensor(tensor, sourceDir, sources);
      const converted = transform?.(tensor, raw);
      const bytes = converted?.bytes ?? raw;
      // As onnx writes it: large tensors at 4096-byte boundaries (mmap-friendly), others at 64.
      const align = bytes.byteLength >= 1 << 20 ? 4096 : 64;
      offset += (align - (offset % align)) % align;
      await target.write(bytes, 0, bytes.byteLength, offset);
      if (converted !== undefined) tensor.data_type = converted.dataType;
      tensor.external_data = [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ];
      offset += bytes.byteLength;
      tensors++;
    }
  } finally {
    await target.close();
    await Promise.all([...sources.values()].map((h) => h.close()));
  }
  return { location, tensors, bytes: offset };
}

function convertInline(tensor: TensorMessage, transform: TensorTransform | undefined): void {
  if (transform === undefined || tensor.raw_data === undefined) return;
  const converted = transform(tensor, tensor.raw_data);
  if (converted === undefined) return;
  tensor.raw_data = converted.bytes;
  tensor.data_type = converted.dataType;
}

async function readTensor(tensor: TensorMessage, sourceDir: string, handles: Map<string, FileHandle>): Promise<Uint8Array> {
  const location = entry(tensor, 'location');
  const file = path.join(sourceDir, location ?? '');
  const missing = (why: string): DiffEditError =>
    new DiffEditError(ErrorCode.ModelFileMissing, `${file}: cannot read the weights of "${tensor.name}" (${why}).`, { file, tensor: tensor.name });
  if (location === undefined) throw missing('no location');
  let handle = handles.get(location);
  if (handle === undefined) {
    handle = await open(file, 'r').catch(() => {
      throw missing('no such file');
    });
    handles.set(location, handle);
  }
  const offset = Number(entry(tensor, 'offset') ?? 0);
  const length = entry(tensor, 'length') !== undefined ? Number(entry(tensor, 'length')) : (await stat(file)).size - offset;
  const bytes = new Uint8Array(length);
  const { bytesRead } = await handle.read(bytes, 0, length, offset);
  if (bytesRead !== length) throw missing(`file ends ${length - bytesRead} bytes early`);
  return bytes;
}
