/**
 * Preloaded into worker processes by the tests (`--import`): every engine run starts TEST_ENGINE_DELAY_MS later,
 * so a job on tiny models lasts long enough to be seen waiting, running, and killed mid-way, as on a real GPU.
 */
import { DiffEditEngine } from '../../../src/engine/engine.js';

const delayMs = Number(process.env.TEST_ENGINE_DELAY_MS ?? 0);
const prototype = DiffEditEngine.prototype;
const run = Object.getOwnPropertyDescriptor(prototype, 'run')?.value as typeof prototype.run;
// Unset (the benchmark): runs untouched, so nothing is added to what is measured.
if (delayMs > 0) {
  prototype.run = async function (this: DiffEditEngine, ...args: Parameters<typeof run>) {
    await new Promise((r) => setTimeout(r, delayMs));
    return run.apply(this, args);
  };
}
