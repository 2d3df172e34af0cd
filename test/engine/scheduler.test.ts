import { describe, expect, it } from 'vitest';
import {
  SD_V1_SCHEDULER,
  addNoise,
  alphasCumprod,
  applyGuidance,
  ddimInverseStep,
  ddimSchedule,
  ddimSigma,
  ddimStep,
  ddimTimesteps,
  numpyArange,
  numpyLinspace,
  parseSchedulerConfig,
  roundHalfToEven,
  timestepsForStrength,
  type SchedulerConfig,
} from '../../src/engine/scheduler.js';
import { isDiffEditError } from '../../src/errors.js';

const alphas = alphasCumprod(SD_V1_SCHEDULER);
const f = (...values: number[]): Float32Array => Float32Array.from(values);

describe('alphas_cumprod of SD v1', () => {
  // Reference: diffusers' float32 computation (torch.linspace(...)**2, cumprod), printed with numpy float32.
  it.each([
    [0, 0.9991499781608582],
    [1, 0.9982960224151611],
    [21, 0.9803807139396667],
    [481, 0.3022955656051636],
    [781, 0.04345594346523285],
    [981, 0.005775488913059235],
    [999, 0.004660089500248432],
  ])('alphas_cumprod[%i] = %f', (t, expected) => {
    expect(alphas[t]).toBeCloseTo(expected, 6);
    expect(Math.abs((alphas[t] as number) / expected - 1)).toBeLessThan(5e-6);
  });
});

describe('DDIM "leading" timesteps', () => {
  it.each([
    [50, 981, 961, 1],
    [10, 901, 801, 1],
    [20, 951, 901, 1],
    [1, 1, undefined, 1],
  ])('%i steps start at %i, %s, ... and end at %i', (steps, first, second, last) => {
    const ts = ddimTimesteps(SD_V1_SCHEDULER, steps);
    expect(ts).toHaveLength(steps);
    expect(ts[0]).toBe(first);
    expect(ts[1]).toBe(second);
    expect(ts.at(-1)).toBe(last);
  });

  it.each([
    [50, 0.8, 40, 781],
    [50, 0.5, 25, 481],
    [50, 1, 50, 981],
    [10, 0.8, 8, 701],
  ])('%i steps at strength %f run %i steps from t=%i', (steps, strength, count, first) => {
    const ts = timestepsForStrength(ddimTimesteps(SD_V1_SCHEDULER, steps), strength);
    expect(ts).toHaveLength(count);
    expect(ts[0]).toBe(first);
    expect(ts.at(-1)).toBe(1);
  });

  it('refuses a strength that runs no step, with a typed error', () => {
    expect(() => timestepsForStrength(ddimTimesteps(SD_V1_SCHEDULER, 10), 0.05)).toThrowError(/runs no step/);
  });
});

describe('numpy semantics the timestep grids rely on', () => {
  // np.round / ndarray.round(): ties to even; Math.round sends every tie up.
  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [166.5, 166],
    [499.5, 500],
    [812.5, 812],
    [-1.5, -2],
    [-2.5, -2],
    [2.4, 2],
    [2.6, 3],
    [7, 7],
  ])('round(%f) = %i', (x, expected) => {
    expect(roundHalfToEven(x)).toBe(expected);
  });

  it.each([
    // np.linspace(0, 999, 7): step 166.5, the last value exactly 999.
    [0, 999, 7, [0, 166.5, 333, 499.5, 666, 832.5, 999]],
    [0, 999, 1, [0]],
    [0, 10, 3, [0, 5, 10]],
  ])('linspace(%f, %f, %i)', (start, stop, num, expected) => {
    expect(numpyLinspace(start, stop, num)).toEqual(expected);
  });

  it.each([
    [1000, 0, -250, [1000, 750, 500, 250]],
    [1000, 0, -62.5, Array.from({ length: 16 }, (_, i) => 1000 - 62.5 * i)],
    // 1000 / (1000 / 61) is 61.000000000000007 in float64, so numpy's length ceil() gives 62 values, the last ~0.
    [1000, 0, -1000 / 61, 62],
  ])('arange(%f, %f, %f)', (start, stop, step, expected) => {
    const values = numpyArange(start, stop, step);
    if (typeof expected === 'number') expect(values).toHaveLength(expected);
    else expect(values).toEqual(expected);
  });
});

describe('DDIM "linspace" and "trailing" timesteps round half to even, as diffusers (numpy) does', () => {
  const spaced = (timestepSpacing: SchedulerConfig['timestepSpacing']): SchedulerConfig => ({ ...SD_V1_SCHEDULER, timestepSpacing });
  // Expected lists by hand from the numpy grids above; Math.round would give 833 and 167 (linspace, 7 steps) and
  // 813, 563, 313, 63 (+1 each before the -1; trailing, 16 steps).
  it.each([
    ['linspace', 7, [999, 832, 666, 500, 333, 166, 0]],
    ['linspace', 3, [999, 500, 0]],
    ['linspace', 1, [0]],
    ['trailing', 16, [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61]],
    ['trailing', 4, [999, 749, 499, 249]],
    ['trailing', 1, [999]],
  ] as const)('%s, %i steps', (spacing, steps, expected) => {
    expect(ddimTimesteps(spaced(spacing), steps)).toEqual(expected);
  });

  it("keeps exactly `steps` trailing timesteps where numpy's arange makes one too many (61 steps: no timestep -1)", () => {
    const ts = ddimTimesteps(spaced('trailing'), 61);
    expect(ts).toHaveLength(61);
    // ..., 1000 - 58 x 1000/61 = 49.18 -> 48, 32.79 -> 32, 16.39 -> 15; diffusers' list goes on with round(~0) - 1 = -1.
    expect(ts.slice(-3)).toEqual([48, 32, 15]);
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(0);
  });
});

describe('one DDIM step, by hand', () => {
  const schedule = ddimSchedule(SD_V1_SCHEDULER, 50);
  it('t=981 -> 961 with eta 0 follows x0 = (x - sqrt(1-a_t) eps)/sqrt(a_t), x_prev = sqrt(a_prev) x0 + sqrt(1-a_prev) eps', () => {
    const aT = alphas[981] as number;
    const aPrev = alphas[961] as number;
    const x = 1.5;
    const eps = 0.25;
    const x0 = (x - Math.sqrt(1 - aT) * eps) / Math.sqrt(aT);
    const expected = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps;
    expect(ddimStep(schedule, 981, f(x), f(eps))[0]).toBeCloseTo(expected, 4);
  });

  it('the last step (t=1) goes to alphas_cumprod[0] because set_alpha_to_one is false', () => {
    const aT = alphas[1] as number;
    const aPrev = alphas[0] as number;
    const x0 = (0.3 - Math.sqrt(1 - aT) * 0.1) / Math.sqrt(aT);
    expect(ddimStep(schedule, 1, f(0.3), f(0.1))[0]).toBeCloseTo(Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * 0.1, 6);
  });

  it('eta > 0 adds sigma z and shrinks the direction term', () => {
    const aT = alphas[781] as number;
    const aPrev = alphas[761] as number;
    const sigma = ddimSigma(aT, aPrev, 1);
    expect(sigma).toBeCloseTo(Math.sqrt((1 - aPrev) / (1 - aT)) * Math.sqrt(1 - aT / aPrev), 12);
    const x0 = (0.5 - Math.sqrt(1 - aT) * 0.2) / Math.sqrt(aT);
    const expected = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev - sigma * sigma) * 0.2 + sigma * 2;
    expect(ddimStep(schedule, 781, f(0.5), f(0.2), 1, f(2))[0]).toBeCloseTo(expected, 5);
  });

  it('eta 0 has sigma 0', () => {
    expect(ddimSigma(0.5, 0.6, 0)).toBe(0);
  });
});

describe('one DDIM inversion step, by hand', () => {
  const schedule = ddimSchedule(SD_V1_SCHEDULER, 50);
  it('at t=1 moves from alphas_cumprod[0] (the clean end) to alphas_cumprod[1]', () => {
    const aFrom = alphas[0] as number;
    const aTo = alphas[1] as number;
    const x0 = (0.7 - Math.sqrt(1 - aFrom) * -0.4) / Math.sqrt(aFrom);
    expect(ddimInverseStep(schedule, 1, f(0.7), f(-0.4))[0]).toBeCloseTo(Math.sqrt(aTo) * x0 + Math.sqrt(1 - aTo) * -0.4, 6);
  });

  it('at t=781 moves from level 761 to level 781', () => {
    const aFrom = alphas[761] as number;
    const aTo = alphas[781] as number;
    const x0 = (0.2 - Math.sqrt(1 - aFrom) * 0.3) / Math.sqrt(aFrom);
    expect(ddimInverseStep(schedule, 781, f(0.2), f(0.3))[0]).toBeCloseTo(Math.sqrt(aTo) * x0 + Math.sqrt(1 - aTo) * 0.3, 5);
  });

  it('is undone exactly by a DDIM step with the same noise prediction', () => {
    const x = f(0.1, -0.8, 1.3);
    const eps = f(0.5, 0.2, -1);
    const up = ddimInverseStep(schedule, 481, x, eps);
    const back = ddimStep(schedule, 481, up, eps);
    back.forEach((v, i) => expect(v).toBeCloseTo(x[i] as number, 5));
  });
});

describe('noise and guidance', () => {
  const schedule = ddimSchedule(SD_V1_SCHEDULER, 50);
  it('add_noise = sqrt(a_t) x0 + sqrt(1-a_t) eps', () => {
    const a = alphas[481] as number;
    expect(addNoise(schedule, 481, f(2), f(-1))[0]).toBeCloseTo(Math.sqrt(a) * 2 - Math.sqrt(1 - a), 6);
  });
  it.each([
    [0, 1, 1, 1],
    [2, 1, 0, 2],
    [0, 1, 7.5, 7.5],
    [1, 3, 2, 5],
  ])('guidance u=%f c=%f g=%f gives %f', (u, c, g, expected) => {
    expect(applyGuidance(f(u), f(c), g)[0]).toBeCloseTo(expected, 6);
  });
});

describe('scheduler_config.json', () => {
  it('reads SD v1.5 PNDM config keys into the DDIM config', () => {
    const config = parseSchedulerConfig(
      {
        _class_name: 'PNDMScheduler',
        beta_end: 0.012,
        beta_schedule: 'scaled_linear',
        beta_start: 0.00085,
        clip_sample: false,
        num_train_timesteps: 1000,
        set_alpha_to_one: false,
        skip_prk_steps: true,
        steps_offset: 1,
        trained_betas: null,
      },
      'scheduler_config.json',
    );
    expect(config).toEqual(SD_V1_SCHEDULER);
  });

  it.each([
    [{}, true],
    [{ set_alpha_to_one: null }, true],
    [{ set_alpha_to_one: false }, false],
    [{ set_alpha_to_one: true }, true],
  ])("%j gives set_alpha_to_one %s (absent: DDIMScheduler's default, true)", (json, expected) => {
    const config = parseSchedulerConfig(json, 'scheduler_config.json');
    expect(config.setAlphaToOne).toBe(expected);
    // The last step then lands on alpha 1 (the clean end) rather than alphas_cumprod[0].
    expect(ddimSchedule(config, 50).finalAlphaCumprod).toBe(expected ? 1 : alphas[0]);
  });

  it.each([{ clip_sample: false, thresholding: false }, { clip_sample: null }])('accepts %j', (json) => {
    expect(() => parseSchedulerConfig(json, 'scheduler_config.json')).not.toThrow();
  });

  it.each([
    [{ clip_sample: true }, /"clip_sample" is true/],
    [{ thresholding: true, dynamic_thresholding_ratio: 0.995 }, /"thresholding" is true/],
    [{ clip_sample: 'no' }, /"clip_sample" must be true or false/],
    [{ set_alpha_to_one: 1 }, /"set_alpha_to_one" must be true or false/],
    [{ prediction_type: 'sample' }, /prediction_type "sample" is not supported/],
    [{ _class_name: 'FlowMatchEulerDiscreteScheduler', shift: 3 }, /flow-matching scheduler \(SD 3, Flux\)/],
    [{ beta_schedule: 'squaredcos_cap_v2' }, /beta_schedule/],
    [{ beta_start: 'x' }, /beta_start/],
    ['nope', /not a JSON object/],
  ])('refuses %j with a typed error naming the key', (json, message) => {
    try {
      parseSchedulerConfig(json, 'scheduler_config.json');
      expect.unreachable();
    } catch (error) {
      expect(isDiffEditError(error, 'ModelContractMismatch')).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^scheduler_config\.json/);
    }
  });
});
