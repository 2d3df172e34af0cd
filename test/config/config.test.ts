import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBotConfig } from '../../src/config/bot.js';
import { readEngineConfig } from '../../src/config/engine.js';
import { ConfigError, EnvReader } from '../../src/config/env.js';

function read(env: Record<string, string>) {
  const reader = new EnvReader(env);
  const engine = readEngineConfig(reader);
  const bot = readBotConfig(reader);
  return { engine, bot, reader };
}

describe('configuration from the environment', () => {
  it('has sensible defaults with nothing set', () => {
    const { engine, bot, reader } = read({});
    expect(() => reader.assertValid()).not.toThrow();
    expect(engine).toMatchObject({
      providers: ['cuda', 'webgpu', 'cpu'],
      size: undefined,
      maxOutputSide: 2048,
      maxResultBytes: 10 * 1024 * 1024,
      maxBatch: undefined,
      graphOptimization: 'all',
      logLevel: 'info',
      inpaintModelDir: undefined,
    });
    expect(engine.modelDir).toBe(path.resolve('models'));
    expect(bot).toMatchObject({ token: undefined, maxUploadBytes: 10 * 1024 * 1024, perUserQueueLimit: 2, queueLimit: 20, progressIntervalMs: 2000 });
    expect(bot.attachmentHosts).toEqual(['cdn.discordapp.com', 'media.discordapp.net']);
  });

  it('reads every variable', () => {
    const { engine, bot } = read({
      DISCORD_TOKEN: ' abc ',
      MODEL_DIR: '/m',
      EXECUTION_PROVIDERS: 'WebGPU, cpu',
      MODEL_SIZE: '768',
      MAX_BATCH: '4',
      MAX_UPLOAD_MB: '8',
      EXTRA_ATTACHMENT_HOSTS: '127.0.0.1, Example.org',
      QUEUE_PER_USER: '1',
    });
    expect(engine).toMatchObject({ modelDir: '/m', providers: ['webgpu', 'cpu'], size: 768, maxBatch: 4 });
    expect(bot).toMatchObject({ token: 'abc', maxUploadBytes: 8 * 1024 * 1024, perUserQueueLimit: 1 });
    expect(bot.attachmentHosts).toEqual(['cdn.discordapp.com', 'media.discordapp.net', '127.0.0.1', 'example.org']);
  });

  it('lists every problem at once, naming each variable', () => {
    const { reader } = read({ MODEL_SIZE: '500', MAX_BATCH: 'lots', EXECUTION_PROVIDERS: 'tpu', LOG_LEVEL: 'chatty', DISCORD_API_URL: 'ftp://x' });
    try {
      reader.assertValid();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
      expect(variables).toEqual(['DISCORD_API_URL', 'EXECUTION_PROVIDERS', 'LOG_LEVEL', 'MAX_BATCH', 'MODEL_SIZE']);
      expect((error as Error).message).toMatch(/MODEL_SIZE: 500 is not a multiple of 64/);
    }
  });
});
