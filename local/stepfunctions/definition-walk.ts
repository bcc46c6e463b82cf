/**
 * A JSON object read from a definition; every field is unknown until checked.
 *
 * @example
 * const state: Json = { Type: 'Pass', End: true };
 */
export type Json = Record<string, unknown>;

/**
 * Narrows `value` to a plain JSON object.
 *
 * @example
 * isObject({}); // true
 * isObject([]); // false
 */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One state met while walking a definition: its name, its object and a readable location for
 * error messages.
 *
 * @example
 * const visit = (s: VisitedState) => console.log(s.where, s.state.Type);
 */
export interface VisitedState {
  name: string;
  state: Json;
  where: string;
}

/**
 * Calls `visit` for every state, including those of Parallel branches and Map processors. It
 * tolerates malformed input (the engine's validator reports that later with its own messages).
 *
 * @example
 * forEachState(definition, ({ name, state }) => { if (state.Type === 'Task') names.push(name); });
 */
export function forEachState(scope: unknown, visit: (visited: VisitedState) => void, where = ''): void {
  if (!isObject(scope) || !isObject(scope.States)) return;
  for (const [name, state] of Object.entries(scope.States)) {
    if (!isObject(state)) continue;
    const here = where ? `${where} > ${name}` : name;
    visit({ name, state, where: here });
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => {
        forEachState(branch, visit, `${here} > Branches[${i}]`);
      });
    }
    if (state.Type === 'Map') forEachState(state.ItemProcessor ?? state.Iterator, visit, here);
  }
}
