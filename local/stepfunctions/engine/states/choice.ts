import { StatesError } from '../errors.js';
import { jsonataFinish, pathAssign, pathEnv } from '../io.js';
import { evaluateField } from '../jsonata.js';
import { filterPath } from '../paths.js';
import type { StateCtx, StateStep } from '../scope.js';
import type { Json } from '../types.js';
import { matchesRule } from './choice-rules.js';

function noMatch(): StatesError {
  return new StatesError('States.NoChoiceMatched', 'No Choice rule matched and there is no Default');
}

async function runJsonata(ctx: StateCtx): Promise<StateStep> {
  const rules = ctx.state.Choices as Json[];
  const states = { input: ctx.input, context: ctx.context() };
  for (const [i, rule] of rules.entries()) {
    const verdict = await evaluateField(
      rule.Condition,
      states,
      ctx.scope.variables,
      `Choices[${i}].Condition`,
    );
    if (typeof verdict !== 'boolean') {
      throw new StatesError(
        'States.QueryEvaluationError',
        `The Condition of Choices[${i}] in state '${ctx.name}' returned ${JSON.stringify(verdict)}, not a boolean`,
      );
    }
    if (verdict) {
      // A rule without Output takes the state's; its Assign is its own.
      const step = await jsonataFinish(ctx, {}, ctx.input, {
        Output: rule.Output ?? ctx.state.Output,
        Assign: rule.Assign,
      });
      return { ...step, next: rule.Next as string };
    }
  }
  if (typeof ctx.state.Default !== 'string') throw noMatch();
  const step = await jsonataFinish(ctx, {}, ctx.input);
  return { ...step, next: ctx.state.Default };
}

/**
 * A Choice state: the first rule that holds picks `Next` (JSONPath comparison rules, JSONata
 * `Condition`s); `Default` otherwise, `States.NoChoiceMatched` without one. A matched rule's
 * `Assign`/`Output` apply; for `Default`, the state's own.
 *
 * @example
 * const { next } = await runChoice(ctx);
 */
export async function runChoice(ctx: StateCtx): Promise<StateStep> {
  if (ctx.language === 'JSONata') return runJsonata(ctx);
  const env = pathEnv(ctx);
  const effective = filterPath(ctx.state.InputPath, ctx.input, env, 'InputPath');
  const output = filterPath(ctx.state.OutputPath, effective, env, 'OutputPath');
  for (const rule of ctx.state.Choices as Json[]) {
    if (matchesRule(rule, effective, env)) {
      return { output, assign: pathAssign(ctx, rule.Assign, effective), next: rule.Next as string };
    }
  }
  if (typeof ctx.state.Default !== 'string') throw noMatch();
  return { output, assign: pathAssign(ctx, ctx.state.Assign, effective), next: ctx.state.Default };
}
