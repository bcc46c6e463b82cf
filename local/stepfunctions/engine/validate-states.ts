import { isExpression } from './jsonata.js';
import { COMPARISONS, TYPE_TESTS } from './states/choice-rules.js';
import type { Json, QueryLanguage } from './types.js';
import { FieldChecker } from './validate-base.js';
import { isObject, VARIABLE_NAME } from './validate-fields.js';

/**
 * The checks of {@link validate} that know state types: Assign and its scopes, Catch, Choice
 * rules, Task, Map. `scope` (walking a list of states) is the subclass's.
 *
 * @example
 * class Checker extends StateChecker { scope(...) { ... } }
 */
export abstract class StateChecker extends FieldChecker {
  abstract scope(definition: unknown, where: string, outer: Set<string>): void;

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
