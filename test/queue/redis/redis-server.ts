/**
 * Test support: a throwaway redis-server of the test's own, on 127.0.0.1 and a free port, with no persistence,
 * stopped by its PID. Tests that need one use `describe.skipIf(!HAS_REDIS)`; global-setup.ts says once why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';

/** redis-server is on PATH. */
export const HAS_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** The one line printed when the Redis tests are skipped. */
export const SKIP_LINE = 'Redis tests skipped: redis-server is not on PATH (to run them: apt-get install -y redis-server).';

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 2 s) and waits for the process to exit. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL and waits for the process to exit. */
  kill(): Promise<void>;
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts redis-server on a free loopback port (or `port`) and waits until it answers PING. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `redis://127.0.0.1:${chosen}`;
  try {
    await waitForPing(url, child, 10_000);
  } catch (error) {
    await stopChild(child);
    throw new Error(`redis-server did not start: ${String(error)}\n${output.join('')}`, { cause: error });
  }
  if (child.pid === undefined) throw new Error('redis-server has no pid');
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return { port: chosen, url, pid: child.pid, stop: () => stopChild(child), kill };
}

/** Kills `server` (SIGKILL, as a crash would) and starts an empty one on the same port: Redis lost its data. */
export async function restartEmpty(server: RedisServer): Promise<RedisServer> {
  await server.kill();
  return startRedis(server.port);
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}
