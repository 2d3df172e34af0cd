/**
 * v-prediction (SD 2.x 768 models): the UNet's v is turned into ε where the steps use it, so DiffEdit's maths stays
 * ε maths. Checked against values computed by hand from the scheduler's alphas, and against diffusers' own
 * DDIMScheduler / DDIMInverseScheduler steps under SD 2.1's scheduler config (test/fixtures/sd-real-arch-xl).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alphasCumprod,
  ddimInverseStep,
  ddimSchedule,
  ddimStep,
  ddimTimesteps,
  modelOutputToEpsilon,
  parseSchedulerConfig,
  SD_V1_SCHEDULER,
} from '../../src/engine/scheduler.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/sd-real-arch-xl');
const sd21File = path.join(fixtures, 'real-configs/stable-diffusion-2-1/scheduler/scheduler_config.json');
const sd21 = parseSchedulerConfig(JSON.parse(readFileSync(sd21File, 'utf8')), sd21File);

interface StepCase {
  readonly call: 'DDIMScheduler.step' | 'DDIMInverseScheduler.step';
  readonly timestep: number;
  readonly sample: number[];
  readonly model_output_v: number[];
  readonly prev_sample: number[];
  readonly pred_original_sample: number[];
}
const refs = JSON.parse(readFileSync(path.join(fixtures, 'ddim-v-prediction-refs.json'), 'utf8')) as {
  readonly timesteps: number[];
  readonly alphas_cumprod: Record<string, number>;
  readonly final_alpha_cumprod: number;
  readonly cases: StepCase[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe("SD 2.1's scheduler config", () => {
  it('reads as v-prediction with the "leading" grid diffusers resolves it to', () => {
    expect(sd21.predictionType).toBe('v_prediction');
    expect(sd21.timestepSpacing).toBe('leading');
    expect(ddimTimesteps(sd21, 50)).toEqual(refs.timesteps);
    const alphas = alphasCumprod(sd21);
    for (const [t, value] of Object.entries(refs.alphas_cumprod)) expect(alphas[Number(t)]).toBeCloseTo(value, 6);
    expect(ddimSchedule(sd21, 50).finalAlphaCumprod).toBeCloseTo(refs.final_alpha_cumprod, 6);
  });

  it('leaves an epsilon config on the epsilon path', () => {
    expect(SD_V1_SCHEDULER.predictionType).toBe('epsilon');
    expect(parseSchedulerConfig({ prediction_type: 'epsilon' }, 'x').predictionType).toBe('epsilon');
  });
});

describe('modelOutputToEpsilon', () => {
  // ε = √ᾱ·v + √(1−ᾱ)·x and x0 = √ᾱ·x − √(1−ᾱ)·v, worked out by hand (float64) at SD 2.1's ᾱ of t = 481, 981, 0.
  it.each([
    // alpha, v, x, epsilon, x0
    [0.3022954761981964, 1.0, 2.0, 2.2203882191272997, 0.26434098501877934],
    [0.005775496829301119, -0.5, 1.5, 1.4576637601363092, 0.6125490693693656],
    [0.9991499781608582, 0.25, -1.0, 0.22073859067120702, -1.0068636822273853],
  ])('ᾱ %f, v %f, x %f: ε %f (x0 %f)', (alpha, v, x, epsilon, x0) => {
    const eps = modelOutputToEpsilon('v_prediction', alpha, Float32Array.of(x), Float32Array.of(v));
    expect(eps[0]).toBeCloseTo(epsilon, 6);
    // DDIM's x0 from that ε is diffusers' x0 from v.
    expect((x - Math.sqrt(1 - alpha) * (eps[0] as number)) / Math.sqrt(alpha)).toBeCloseTo(x0, 5);
  });

  it('hands an epsilon output back untouched (the same array)', () => {
    const output = Float32Array.of(0.5, -1);
    expect(modelOutputToEpsilon('epsilon', 0.3, Float32Array.of(9, 9), output)).toBe(output);
  });

  it("reads only the sample's first values (an inpainting UNet's input has 9 channels, its output 4)", () => {
    const eps = modelOutputToEpsilon('v_prediction', 0.25, Float32Array.of(2, 100, 100), Float32Array.of(1));
    expect(Array.from(eps)).toEqual([0.5 * 1 + Math.sqrt(0.75) * 2].map(Math.fround));
  });
});

describe("DDIM steps on v equal diffusers' (SD 2.1 config, 50 steps, eta 0)", () => {
  const schedule = ddimSchedule(sd21, 50);
  it.each(refs.cases.map((c) => [c.call, c.timestep, c] as const))('%s at t = %i', (call, t, c) => {
    const sample = Float32Array.from(c.sample);
    const v = Float32Array.from(c.model_output_v);
    const out = call === 'DDIMScheduler.step' ? ddimStep(schedule, t, sample, v) : ddimInverseStep(schedule, t, sample, v);
    expect(maxAbsDiff(out, c.prev_sample)).toBeLessThan(2e-5);
  });

  it('and differ from them when v is taken for ε (the conversion matters)', () => {
    const c = refs.cases[1] as StepCase;
    const asEpsilon = ddimSchedule({ ...sd21, predictionType: 'epsilon' }, 50);
    const out = ddimStep(asEpsilon, c.timestep, Float32Array.from(c.sample), Float32Array.from(c.model_output_v));
    expect(maxAbsDiff(out, c.prev_sample)).toBeGreaterThan(0.1);
  });
});
