import { isIntrinsic, parseIntrinsic } from './intrinsics.js';
import { isReferencePath, parsePath } from './json-path.js';
import { compile, expressionsIn } from './jsonata.js';
import type { Json, QueryLanguage } from './types.js';
import { isObject } from './validate-fields.js';

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

/**
 * The field-level checks of {@link validate}: paths, payload templates, JSONata, Retry, targets.
 * Each records a problem and goes on, so one call reports them all.
 *
 * @example
 * class Checker extends FieldChecker { ... }
 */
export class FieldChecker {
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
}
