import type { Json, QueryLanguage } from './types.js';
import type { DefinitionProblem, ValidateOptions } from './validate-base.js';
import { COMMON, FIELDS, isObject, MAP_NUMBERS, UNSUPPORTED } from './validate-fields.js';
import { StateChecker } from './validate-states.js';

export type { DefinitionProblem, ValidateOptions } from './validate-base.js';

class Checker extends StateChecker {
  scope(definition: unknown, where: string, outer: Set<string>): void {
    if (!isObject(definition)) {
      this.add(where, undefined, 'a state list must be an object');
      return;
    }
    const states = definition.States;
    if (!isObject(states) || Object.keys(states).length === 0) {
      this.add(where, 'States', 'States must be a non-empty object');
      return;
    }
    if (typeof definition.StartAt !== 'string' || !(definition.StartAt in states)) {
      this.add(
        where,
        'StartAt',
        `MISSING_TRANSITION_TARGET: StartAt '${String(definition.StartAt)}' is not a state of this scope`,
      );
    }
    // Names assigned anywhere in this scope: inner scopes may not assign them.
    const own = new Set<string>();
    const inner: Array<(all: Set<string>) => void> = [];
    for (const [name, state] of Object.entries(states)) {
      const here = where ? `${where} > ${name}` : name;
      if (this.names.has(name))
        this.add(
          here,
          undefined,
          `state name '${name}' is used twice (names are unique across the definition)`,
        );
      this.names.add(name);
      if (name.length > 80) this.add(here, undefined, 'a state name is at most 80 characters');
      if (!isObject(state)) {
        this.add(here, undefined, 'a state must be an object');
        continue;
      }
      this.state(here, state, states, outer, own, inner);
    }
    const all = new Set([...outer, ...own]);
    for (const check of inner) check(all);
  }

  state(
    where: string,
    state: Json,
    states: Json,
    outer: Set<string>,
    own: Set<string>,
    inner: Array<(all: Set<string>) => void>,
  ): void {
    const type = state.Type as string;
    const language = (state.QueryLanguage ?? this.topLanguage) as QueryLanguage;
    if (language !== 'JSONPath' && language !== 'JSONata') {
      this.add(where, 'QueryLanguage', 'QueryLanguage must be JSONPath or JSONata');
      return;
    }
    const allowed = FIELDS[language][type];
    if (!allowed) {
      this.add(where, 'Type', `unknown state Type '${String(type)}'`);
      return;
    }
    for (const key of Object.keys(state)) {
      if (COMMON.includes(key) || allowed.includes(key)) continue;
      const feature = UNSUPPORTED[key];
      const otherLanguage = FIELDS[language === 'JSONata' ? 'JSONPath' : 'JSONata'][type]?.includes(key);
      this.add(
        where,
        key,
        feature
          ? `${feature} is not supported by the local engine`
          : otherLanguage
            ? `${key} is not a field of a ${language} ${type} state`
            : `unknown field ${key} of a ${type} state`,
      );
    }
    if (['Pass', 'Task', 'Wait', 'Parallel', 'Map'].includes(type)) {
      const hasNext = state.Next !== undefined;
      if (hasNext === (state.End === true))
        this.add(where, 'Next', 'a state needs exactly one of Next or End: true');
      if (hasNext) this.target(where, 'Next', state.Next, states);
    }
    if (language === 'JSONPath') {
      for (const field of ['InputPath', 'OutputPath'])
        if (field in state) this.path(where, field, state[field], 'path');
      if ('ResultPath' in state) this.path(where, 'ResultPath', state.ResultPath, 'reference');
      for (const field of ['Parameters', 'ResultSelector', 'ItemSelector'])
        if (field in state) this.template(where, field, state[field]);
      for (const field of [
        'ItemsPath',
        'TimeoutSecondsPath',
        'HeartbeatSecondsPath',
        'SecondsPath',
        'TimestampPath',
        ...MAP_NUMBERS.map((n) => `${n}Path`),
      ]) {
        if (field in state) this.path(where, field, state[field], 'path');
      }
      for (const field of ['ErrorPath', 'CausePath'])
        if (field in state) this.path(where, field, state[field], 'path-or-intrinsic');
    } else {
      for (const field of [
        'Arguments',
        'Output',
        'Items',
        'ItemSelector',
        'TimeoutSeconds',
        'HeartbeatSeconds',
        'Seconds',
        'Timestamp',
        'Error',
        'Cause',
        ...MAP_NUMBERS,
      ]) {
        if (field in state) this.jsonata(where, field, state[field]);
      }
    }
    this.assign(where, 'Assign', state.Assign, language, outer, own);
    if (state.Retry !== undefined) this.retry(where, state.Retry);
    if (state.Catch !== undefined) this.catchers(where, state.Catch, language, states, outer, own);
    if (type === 'Task') this.task(where, state);
    if (type === 'Choice') this.choice(where, state, language, states, outer, own);
    if (type === 'Wait') {
      const given = ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'].filter((f) => f in state);
      if (given.length !== 1)
        this.add(
          where,
          'Seconds',
          'a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath',
        );
    }
    if (type === 'Fail') {
      if ('Error' in state && 'ErrorPath' in state)
        this.add(where, 'ErrorPath', 'Error and ErrorPath exclude each other');
      if ('Cause' in state && 'CausePath' in state)
        this.add(where, 'CausePath', 'Cause and CausePath exclude each other');
    }
    if (type === 'Parallel') {
      if (!Array.isArray(state.Branches) || state.Branches.length === 0)
        this.add(where, 'Branches', 'Branches must be a non-empty array');
      else {
        const branches = state.Branches;
        inner.push((all) => {
          branches.forEach((branch, i) => {
            this.scope(branch, `${where} > Branches[${i}]`, all);
          });
        });
      }
    }
    if (type === 'Map') this.map(where, state, inner);
  }
}

/**
 * Checks a definition against what this engine runs and answers every problem (empty: it runs
 * as AWS would). Anything it does not run is refused here, never ignored at run time: unknown or
 * other-language fields, Distributed Map, bad paths, intrinsics and JSONata, missing targets,
 * inner scopes assigning outer variables, and resources `options.resource` refuses.
 *
 * @example
 * validate({ StartAt: 'A', States: { A: { Type: 'Pass', ItemReader: {}, End: true } } });
 * // [{ state: 'A', field: 'ItemReader', message: 'Distributed Map (ItemReader) is not supported by the local engine' }]
 */
export function validate(definition: unknown, options: ValidateOptions = {}): DefinitionProblem[] {
  if (!isObject(definition)) return [{ message: 'the definition must be a JSON object' }];
  const language = (definition.QueryLanguage ?? 'JSONPath') as QueryLanguage;
  const checker = new Checker(options, language);
  if (language !== 'JSONPath' && language !== 'JSONata') {
    checker.add(undefined, 'QueryLanguage', 'QueryLanguage must be JSONPath or JSONata');
    return checker.problems;
  }
  for (const key of Object.keys(definition)) {
    if (!['StartAt', 'States', 'Comment', 'Version', 'TimeoutSeconds', 'QueryLanguage'].includes(key)) {
      checker.add(undefined, key, `unknown top-level field ${key}`);
    }
  }
  const timeout = definition.TimeoutSeconds;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1)) {
    checker.add(undefined, 'TimeoutSeconds', 'TimeoutSeconds must be a positive integer');
  }
  checker.scope(definition, '', new Set());
  return checker.problems;
}

/**
 * One line per problem, for an `InvalidDefinition` message.
 *
 * @example
 * describeProblems(validate(definition)); // "State 'A', field 'ItemReader': Distributed Map ..."
 */
export function describeProblems(problems: readonly DefinitionProblem[]): string {
  return problems
    .map(
      (p) =>
        `${p.state ? `State '${p.state}'` : 'Top level'}${p.field ? `, field '${p.field}'` : ''}: ${p.message}`,
    )
    .join('; ');
}
