// Child process of provider-probe.ts: creates a session for one tiny model on one execution provider and
// prints {"ok":true} or {"ok":false,"error":"..."} on stdout. Whatever onnxruntime, CUDA, Dawn or Vulkan write
// on stderr while trying stays in this process's stderr, which the parent reads instead of the user's terminal.
// Plain JavaScript: it runs with `node` alone, no TypeScript loader.
import ort from 'onnxruntime-node';

const [provider, modelBase64] = process.argv.slice(2);
try {
  const session = await ort.InferenceSession.create(Buffer.from(modelBase64 ?? '', 'base64'), { executionProviders: [provider] });
  const x = new ort.Tensor('float32', new Float32Array([1, 2]), [2]);
  await session.run({ x });
  await session.release();
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
}
