/**
 * Test support: `npm run worker` as a real child process on the tiny models, its JSON log lines kept for
 * assertions, stopped or killed by its PID.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { tinyModelDir } from '../../engine/tiny-engine.js';

const root = path.resolve(import.meta.dirname, '../../..');

/** One log line of the worker. */
export interface WorkerLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A running worker process. */
export interface WorkerProcess {
  readonly pid: number;
  readonly lines: WorkerLine[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves with the first line matching `predicate`, polling; rejects after `timeoutMs`. */
  waitForLine(predicate: (line: WorkerLine) => boolean, timeoutMs?: number): Promise<WorkerLine>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a worker on the tiny models against `redisUrl`; resolves once it takes jobs. */
export async function startWorker(redisUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', path.join(root, 'test/queue/redis/paced-engine.ts'), path.join(root, 'src/queue/redis/worker-main.ts')],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        MODEL_DIR: await tinyModelDir(),
        MODEL_SIZE: '128',
        EXECUTION_PROVIDERS: 'cpu',
        CPU_THREADS: '1',
        MAX_BATCH: '20',
        LOG_LEVEL: 'debug',
        REDIS_URL: redisUrl,
        ...env,
      },
    },
  );
  const lines: WorkerLine[] = [];
  let rest = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as WorkerLine);
      } catch {
        lines.push({ msg: part });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForLine = async (predicate: (line: WorkerLine) => boolean, timeoutMs = 20_000): Promise<WorkerLine> => {
    for (const deadline = Date.now() + timeoutMs; ;) {
      const line = lines.find(predicate);
      if (line !== undefined) return line;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker exited: ${JSON.stringify(lines.slice(-5))}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a worker line: ${JSON.stringify(lines.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  if (child.pid === undefined) throw new Error('worker has no pid');
  const worker: WorkerProcess = { pid: child.pid, lines, exited, waitForLine, kill: (signal) => void child.kill(signal) };
  await waitForLine((line) => line.msg === 'worker taking jobs', 60_000);
  return worker;
}
