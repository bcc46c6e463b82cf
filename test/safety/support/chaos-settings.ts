/**
 * How hard the safety suite pushes. The default is the CI run: a fixed seed and a size that
 * keeps the suite within about a minute and a half on two cores. `npm run chaos` sets
 * `CHAOS=long` (and may set the numbers one by one) for a longer run with a fresh seed.
 */
export interface ChaosSettings {
  long: boolean;
  seed: number;
  modelRuns: number;
  modelCommands: number;
  /** Wall-time budget of the model test; runs past it are not started (shrinking is bounded too). */
  modelSeconds: number;
  faultRounds: number;
  /**
   * Runs of the protocol simulation, and its wall-time budget: under the test's 600 s limit, so
   * that a counterexample's shrinking (bounded by the same budget) ends and prints its trace.
   */
  protocolRuns: number;
  protocolSeconds: number;
  soakExecutions: number;
  soakSeconds: number;
}

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isFinite(value) ? value : fallback;
}

// One fresh seed per long run, shared by every file of it (and printed, to replay with CHAOS_SEED).
const freshSeed = Date.now() % 2 ** 31;

/** The settings of this run, from the environment. */
export function chaosSettings(): ChaosSettings {
  const long = process.env.CHAOS === 'long';
  return {
    long,
    seed: numberFromEnv('CHAOS_SEED', long ? freshSeed : 20_240_611),
    modelRuns: numberFromEnv('CHAOS_RUNS', long ? 200 : 25),
    modelCommands: numberFromEnv('CHAOS_COMMANDS', long ? 80 : 40),
    modelSeconds: numberFromEnv('CHAOS_MODEL_SECONDS', long ? 1_200 : 25),
    faultRounds: numberFromEnv('CHAOS_FAULT_ROUNDS', long ? 400 : 48),
    protocolRuns: numberFromEnv('CHAOS_PROTOCOL_RUNS', long ? 400 : 40),
    protocolSeconds: numberFromEnv('CHAOS_PROTOCOL_SECONDS', long ? 420 : 60),
    soakExecutions: numberFromEnv('CHAOS_SOAK_EXECUTIONS', long ? 1_000 : 150),
    soakSeconds: numberFromEnv('CHAOS_SOAK_SECONDS', long ? 300 : 45),
  };
}

/**
 * A small seeded generator (mulberry32), so that a failing chaos run can be replayed with
 * `CHAOS_SEED`.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const figures = new Map<string, number>();

/** Adds to one of the suite's figures (operations checked, faults injected, executions). */
export function countFigure(name: string, amount = 1): void {
  figures.set(name, (figures.get(name) ?? 0) + amount);
}

/** The figures so far, sorted by name, one `name: value` per line. */
export function figureLines(prefix = ''): string[] {
  return [...figures.entries()]
    .filter(([name]) => name.startsWith(prefix))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}: ${value}`);
}
