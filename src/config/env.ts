/**
 * Reading typed values out of environment variables, collecting every problem so start-up can report
 * them all at once instead of one per restart.
 */

/** A problem with one variable. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Thrown when the configuration is invalid; `problems` lists each variable and what is wrong. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Typed readers over one environment that remember what was wrong. */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** The trimmed value, or undefined when unset or blank. */
  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** A number in [min, max] (whole when `integer`), or `fallback` when unset. */
  number(name: string, fallback: number, range: { min: number; max: number; integer?: boolean }): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < range.min || value > range.max || (range.integer === true && !Number.isInteger(value))) {
      this.problems.push({
        variable: name,
        message: `"${raw}" is not ${range.integer === true ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}`,
      });
      return fallback;
    }
    return value;
  }

  /** A comma-separated list whose items are all in `allowed`, or `fallback` when unset. */
  list<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
    const raw = this.string(name);
    if (raw === undefined) return [...fallback];
    const items = raw
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const unknown = items.filter((s) => !allowed.includes(s as T));
    if (items.length === 0 || unknown.length > 0) {
      this.problems.push({ variable: name, message: `"${raw}": use a comma-separated list of ${allowed.join(', ')}` });
      return [...fallback];
    }
    return items as T[];
  }

  /** One of `allowed`, or `fallback` when unset. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!allowed.includes(raw as T)) {
      this.problems.push({ variable: name, message: `"${raw}" is not one of ${allowed.join(', ')}` });
      return fallback;
    }
    return raw as T;
  }

  /** Throws a {@link ConfigError} listing every problem seen, if any. */
  assertValid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
