import type { JsonValue } from './types.js';

/**
 * Workflow variables of one scope: the top-level states share one, each Parallel branch and Map
 * iteration gets a child that reads its parents'. `validate` refuses an inner `Assign` of a name
 * an outer scope assigns (AWS does too), so a child never needs to write upwards.
 *
 * @example
 * const top = new VariableScope();
 * top.assign({ lease: 'abc' });
 * top.child().get('lease'); // 'abc'
 */
export class VariableScope {
  readonly #parent: VariableScope | undefined;
  readonly #values = new Map<string, JsonValue>();

  constructor(parent?: VariableScope) {
    this.#parent = parent;
  }

  /** A scope for one Parallel branch or Map iteration. */
  child(): VariableScope {
    return new VariableScope(this);
  }

  /** The value of `name` here or in an outer scope; `undefined` when never assigned. */
  get(name: string): JsonValue | undefined {
    if (this.#values.has(name)) return this.#values.get(name);
    return this.#parent?.get(name);
  }

  /** Every visible variable, inner values over outer ones (JSONata bindings). */
  all(): Record<string, JsonValue> {
    const out = this.#parent ? this.#parent.all() : {};
    for (const [name, value] of this.#values) out[name] = value;
    return out;
  }

  /**
   * Commits the values of one state's `Assign` at once: the caller evaluates every expression
   * first, against the values from before the state, as AWS specifies.
   */
  assign(values: Record<string, JsonValue>): void {
    for (const [name, value] of Object.entries(values)) this.#values.set(name, value);
  }
}
