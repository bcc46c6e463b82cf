import { isIntrinsic, parseIntrinsic } from './intrinsics.js';
import { isReferencePath, parsePath } from './json-path.js';
import { compile, expressionsIn, isExpression } from './jsonata.js';
import { COMPARISONS, TYPE_TESTS } from './states/choice-rules.js';
import type { Json, QueryLanguage } from './types.js';

/**
 * One reason a definition cannot run here: where (`state` as a path of state names, or the top
 * level), which `field`, and why.
 *
 * @example
 * const problem: DefinitionProblem = { state: 'Fan out > Work', field: 'ItemReader', message: 'Distributed Map is not supported' };
 */
export interface DefinitionProblem {
  state?: string;
  field?: string;
  message: string;
}

/**
 * Options of {@link validate}: which Task resources the caller can run (answers a reason
 * when it cannot; default: any).
 *
 * @example
 * validate(definition, { resource: (r) => (r.startsWith('arn:aws:states:::lambda:') ? undefined : 'only Lambda') });
 */
export interface ValidateOptions {
  resource?: (resource: string) => string | undefined;
}

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const FLOW = ['Next', 'End'];
const PATH_IO = ['InputPath', 'OutputPath'];
const PATH_RESULT = ['Parameters', 'ResultSelector', 'ResultPath'];
const ERRORS = ['Retry', 'Catch'];
const MAP_NUMBERS = ['MaxConcurrency', 'ToleratedFailureCount', 'ToleratedFailurePercentage'];

const FIELDS: Record<QueryLanguage, Record<string, string[]>> = {
  JSONPath: {
    Pass: [...FLOW, ...PATH_IO, 'Parameters', 'Result', 'ResultPath', 'Assign'],
    Task: [
      ...FLOW,
      ...PATH_IO,
      ...PATH_RESULT,
      ...ERRORS,
      'Resource',
      'TimeoutSeconds',
      'TimeoutSecondsPath',
      'HeartbeatSeconds',
      'HeartbeatSecondsPath',
      'Assign',
    ],
    Choice: ['Choices', 'Default', ...PATH_IO, 'Assign'],
    Wait: [...FLOW, ...PATH_IO, 'Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath', 'Assign'],
    Succeed: PATH_IO,
    Fail: ['Error', 'ErrorPath', 'Cause', 'CausePath'],
    Parallel: [...FLOW, ...PATH_IO, ...PATH_RESULT, ...ERRORS, 'Branches', 'Assign'],
    Map: [
      ...FLOW,
      ...PATH_IO,
      ...PATH_RESULT,
      ...ERRORS,
      'ItemProcessor',
      'Iterator',
      'ItemsPath',
      'ItemSelector',
      ...MAP_NUMBERS,
      ...MAP_NUMBERS.map((n) => `${n}Path`),
      'Assign',
    ],
  },
  JSONata: {
    Pass: [...FLOW, 'Output', 'Assign'],
    Task: [
      ...FLOW,
      ...ERRORS,
      'Resource',
      'Arguments',
      'Output',
      'Assign',
      'TimeoutSeconds',
      'HeartbeatSeconds',
    ],
    Choice: ['Choices', 'Default', 'Output', 'Assign'],
    Wait: [...FLOW, 'Seconds', 'Timestamp', 'Output', 'Assign'],
    Succeed: ['Output'],
    Fail: ['Error', 'Cause'],
    Parallel: [...FLOW, ...ERRORS, 'Branches', 'Arguments', 'Output', 'Assign'],
    Map: [...FLOW, ...ERRORS, 'ItemProcessor', 'Items', 'ItemSelector', ...MAP_NUMBERS, 'Output', 'Assign'],
  },
};

// Fields AWS has that this engine does not run, with the feature named in the refusal.
const UNSUPPORTED: Record<string, string> = {
  ItemReader: 'Distributed Map (ItemReader)',
  ItemBatcher: 'Distributed Map (ItemBatcher)',
  ResultWriter: 'Distributed Map (ResultWriter)',
  Label: 'Distributed Map (Label)',
  Credentials: 'cross-account Task Credentials',
};

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: DefinitionProblem[] = [];
  readonly names = new Set<string>();

  constructor(
    readonly options: ValidateOptions,
    readonly topLanguage: QueryLanguage,
  ) {}

  add(state: string | undefined, field: string | undefined, message: string): void {
    const problem: DefinitionProblem = { message };
    if (state) problem.state = state;
    if (field) problem.field = field;
    this.problems.push(problem);
  }

  path(where: string, field: string, value: unknown, kind: 'path' | 'reference' | 'path-or-intrinsic'): void {
    if (value === null && (field === 'InputPath' || field === 'OutputPath' || field === 'ResultPath')) return;
    if (typeof value !== 'string') {
      this.add(where, field, `${field} must be a string`);
      return;
    }
    try {
      if (kind === 'path-or-intrinsic' && isIntrinsic(value)) {
        parseIntrinsic(value);
        return;
      }
      const parsed = parsePath(value);
      if (kind === 'reference' && !isReferencePath(parsed)) {
        this.add(where, field, `${field} '${value}' must be a reference path ($, .field, [index])`);
      }
    } catch (error) {
      this.add(where, field, (error as Error).message);
    }
  }

  template(where: string, field: string, template: unknown): void {
    if (Array.isArray(template)) {
      template.forEach((item, i) => {
        this.template(where, `${field}[${i}]`, item);
      });
      return;
    }
    if (!isObject(template)) return;
    for (const [key, value] of Object.entries(template)) {
      if (key.endsWith('.$')) this.path(where, `${field}.${key}`, value, 'path-or-intrinsic');
      else this.template(where, `${field}.${key}`, value);
    }
  }

  jsonata(where: string, field: string, value: unknown): void {
    for (const text of expressionsIn(value)) {
      try {
        compile(text);
      } catch (error) {
        this.add(
          where,
          field,
          `the JSONata expression ${text} does not compile: ${(error as Error).message}`,
        );
      }
    }
  }

  assign(
    where: string,
    field: string,
    assign: unknown,
    language: QueryLanguage,
    outer: Set<string>,
    own: Set<string>,
  ): void {
    if (assign === undefined) return;
    if (!isObject(assign) && !(language === 'JSONata' && isExpression(assign))) {
      this.add(where, field, 'Assign must be an object of variable names');
      return;
    }
    if (!isObject(assign)) {
      this.add(where, field, 'Assign must be an object (an expression per variable)');
      return;
    }
    for (const key of Object.keys(assign)) {
      const name = language === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
      if (!VARIABLE_NAME.test(name) || name === 'states') {
        this.add(where, `${field}.${key}`, `'${name}' is not a valid variable name`);
      }
      // AWS: a Parallel branch or Map iteration reads outer variables but cannot assign them.
      if (outer.has(name)) {
        this.add(
          where,
          `${field}.${key}`,
          `'${name}' is assigned in an outer scope; an inner scope cannot assign it`,
        );
      }
      own.add(name);
    }
    if (language === 'JSONPath') this.template(where, field, assign);
    else this.jsonata(where, field, assign);
  }

  retry(where: string, rules: unknown): void {
    if (!Array.isArray(rules)) {
      this.add(where, 'Retry', 'Retry must be an array');
      return;
    }
    rules.forEach((rule, i) => {
      const field = `Retry[${i}]`;
      if (!isObject(rule)) {
        this.add(where, field, 'a retrier must be an object');
        return;
      }
      this.errorEquals(where, field, rule.ErrorEquals, i === rules.length - 1);
      for (const key of Object.keys(rule)) {
        if (
          ![
            'ErrorEquals',
            'IntervalSeconds',
            'MaxAttempts',
            'BackoffRate',
            'MaxDelaySeconds',
            'JitterStrategy',
            'Comment',
          ].includes(key)
        ) {
          this.add(where, `${field}.${key}`, `unknown retrier field ${key}`);
        }
      }
      const int = (key: string, min: number) => {
        const value = rule[key];
        if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < min)) {
          this.add(where, `${field}.${key}`, `${key} must be an integer of at least ${min}`);
        }
      };
      int('IntervalSeconds', 1);
      int('MaxAttempts', 0);
      int('MaxDelaySeconds', 1);
      if (rule.BackoffRate !== undefined && (typeof rule.BackoffRate !== 'number' || rule.BackoffRate < 1)) {
        this.add(where, `${field}.BackoffRate`, 'BackoffRate must be a number of at least 1.0');
      }
      if (
        rule.JitterStrategy !== undefined &&
        rule.JitterStrategy !== 'FULL' &&
        rule.JitterStrategy !== 'NONE'
      ) {
        this.add(where, `${field}.JitterStrategy`, 'JitterStrategy must be FULL or NONE');
      }
    });
  }

  errorEquals(where: string, field: string, names: unknown, last: boolean): void {
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
      this.add(where, `${field}.ErrorEquals`, 'ErrorEquals must be a non-empty array of error names');
      return;
    }
    if (names.includes('States.ALL') && (names.length > 1 || !last)) {
      this.add(where, `${field}.ErrorEquals`, 'States.ALL must appear alone, in the last rule');
    }
  }

  catchers(
    where: string,
    rules: unknown,
    language: QueryLanguage,
    states: Json,
    outer: Set<string>,
    own: Set<string>,
  ): void {
    if (!Array.isArray(rules)) {
      this.add(where, 'Catch', 'Catch must be an array');
      return;
    }
    const allowed = language === 'JSONata' ? ['Output', 'Assign'] : ['ResultPath', 'Assign'];
    rules.forEach((rule, i) => {
      const field = `Catch[${i}]`;
      if (!isObject(rule)) {
        this.add(where, field, 'a catcher must be an object');
        return;
      }
      this.errorEquals(where, field, rule.ErrorEquals, i === rules.length - 1);
      for (const key of Object.keys(rule)) {
        if (!['ErrorEquals', 'Next', 'Comment', ...allowed].includes(key)) {
          this.add(where, `${field}.${key}`, `${key} is not a ${language} Catch field`);
        }
      }
      this.target(where, `${field}.Next`, rule.Next, states);
      if (rule.ResultPath !== undefined)
        this.path(where, `${field}.ResultPath`, rule.ResultPath, 'reference');
      if (rule.Output !== undefined) this.jsonata(where, `${field}.Output`, rule.Output);
      this.assign(where, `${field}.Assign`, rule.Assign, language, outer, own);
    });
  }

  target(where: string, field: string, next: unknown, states: Json): void {
    if (typeof next !== 'string' || !(next in states)) {
      // AWS's code for this refusal, so a message matches what CreateStateMachine says there.
      this.add(
        where,
        field,
        `MISSING_TRANSITION_TARGET: ${field} '${String(next)}' is not a state of this scope`,
      );
    }
  }

  rule(
    where: string,
    field: string,
    rule: unknown,
    top: boolean,
    states: Json,
    outer: Set<string>,
    own: Set<string>,
  ): void {
    if (!isObject(rule)) {
      this.add(where, field, 'a Choice rule must be an object');
      return;
    }
    if (top) this.target(where, `${field}.Next`, rule.Next, states);
    if (top) this.assign(where, `${field}.Assign`, rule.Assign, 'JSONPath', outer, own);
    for (const combinator of ['And', 'Or'] as const) {
      if (combinator in rule) {
        const inner = rule[combinator];
        if (!Array.isArray(inner) || inner.length === 0)
          this.add(where, `${field}.${combinator}`, `${combinator} must be a non-empty array`);
        else
          inner.forEach((r, i) => {
            this.rule(where, `${field}.${combinator}[${i}]`, r, false, states, outer, own);
          });
        return;
      }
    }
    if ('Not' in rule) {
      this.rule(where, `${field}.Not`, rule.Not, false, states, outer, own);
      return;
    }
    const operators = Object.keys(rule).filter((k) => !['Variable', 'Next', 'Comment', 'Assign'].includes(k));
    const known = [...COMPARISONS, ...COMPARISONS.map((c) => `${c}Path`), ...TYPE_TESTS] as string[];
    if (operators.length !== 1 || !known.includes(operators[0] as string)) {
      this.add(
        where,
        field,
        `a Choice rule needs exactly one comparison operator, got ${operators.join(', ') || 'none'}`,
      );
      return;
    }
    this.path(where, `${field}.Variable`, rule.Variable, 'path');
    const operator = operators[0] as string;
    if (operator.endsWith('Path')) this.path(where, `${field}.${operator}`, rule[operator], 'path');
  }

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

  task(where: string, state: Json): void {
    if (typeof state.Resource !== 'string') {
      this.add(where, 'Resource', 'a Task needs a string Resource');
      return;
    }
    const reason = this.options.resource?.(state.Resource);
    if (reason) this.add(where, 'Resource', reason);
    const { TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat } = state;
    for (const [field, value] of [
      ['TimeoutSeconds', timeout],
      ['HeartbeatSeconds', heartbeat],
    ] as const) {
      if (
        value !== undefined &&
        !isExpression(value) &&
        (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
      ) {
        this.add(where, field, `${field} must be a positive integer`);
      }
    }
    if (typeof timeout === 'number' && typeof heartbeat === 'number' && heartbeat >= timeout) {
      this.add(where, 'HeartbeatSeconds', 'HeartbeatSeconds must be smaller than TimeoutSeconds');
    }
  }

  choice(
    where: string,
    state: Json,
    language: QueryLanguage,
    states: Json,
    outer: Set<string>,
    own: Set<string>,
  ): void {
    if (state.Default !== undefined) this.target(where, 'Default', state.Default, states);
    if (!Array.isArray(state.Choices) || state.Choices.length === 0) {
      this.add(where, 'Choices', 'Choices must be a non-empty array');
      return;
    }
    state.Choices.forEach((rule, i) => {
      const field = `Choices[${i}]`;
      if (language === 'JSONPath') {
        this.rule(where, field, rule, true, states, outer, own);
        return;
      }
      if (!isObject(rule)) {
        this.add(where, field, 'a Choice rule must be an object');
        return;
      }
      for (const key of Object.keys(rule)) {
        if (!['Condition', 'Next', 'Output', 'Assign', 'Comment'].includes(key))
          this.add(where, `${field}.${key}`, `${key} is not a JSONata Choice rule field`);
      }
      if (rule.Condition === undefined)
        this.add(where, `${field}.Condition`, 'a JSONata Choice rule needs a Condition');
      this.jsonata(where, `${field}.Condition`, rule.Condition);
      this.jsonata(where, `${field}.Output`, rule.Output);
      this.target(where, `${field}.Next`, rule.Next, states);
      this.assign(where, `${field}.Assign`, rule.Assign, language, outer, own);
    });
  }

  map(where: string, state: Json, inner: Array<(all: Set<string>) => void>): void {
    const processor = state.ItemProcessor ?? state.Iterator;
    if (!isObject(processor)) {
      this.add(where, 'ItemProcessor', 'a Map state needs an ItemProcessor');
      return;
    }
    const config = processor.ProcessorConfig;
    if (isObject(config)) {
      if (config.Mode === 'DISTRIBUTED')
        this.add(
          where,
          'ItemProcessor.ProcessorConfig.Mode',
          'Distributed Map (Mode DISTRIBUTED) is not supported by the local engine',
        );
      else if (config.Mode !== undefined && config.Mode !== 'INLINE')
        this.add(where, 'ItemProcessor.ProcessorConfig.Mode', 'Mode must be INLINE or DISTRIBUTED');
      for (const key of Object.keys(config))
        if (key !== 'Mode')
          this.add(
            where,
            `ItemProcessor.ProcessorConfig.${key}`,
            `${key} is not supported by the local engine`,
          );
    }
    for (const key of Object.keys(processor)) {
      if (!['StartAt', 'States', 'ProcessorConfig', 'Comment'].includes(key))
        this.add(where, `ItemProcessor.${key}`, `unknown ItemProcessor field ${key}`);
    }
    inner.push((all) => this.scope(processor, where, all));
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
