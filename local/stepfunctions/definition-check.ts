import { forEachState, isObject, type Json } from './definition-walk.js';
import { type DefinitionProblem, describeProblems, validate } from './engine/index.js';
import { SfnError } from './errors.js';
import type { TaskSpec } from './types.js';

const INVOKE = 'arn:aws:states:::lambda:invoke';
const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;

/**
 * Which local handler serves a Task `Resource`, or `undefined` when the endpoint cannot run it
 * (the engine would otherwise call real AWS for it).
 *
 * @example
 * taskKind('arn:aws:states:::lambda:invoke.waitForTaskToken'); // 'callback'
 * taskKind('arn:aws:states:::sqs:sendMessage'); // undefined
 */
export function taskKind(resource: unknown): TaskSpec['kind'] | undefined {
  if (resource === INVOKE) return 'invoke';
  if (resource === CALLBACK) return 'callback';
  if (typeof resource === 'string' && FUNCTION_ARN.test(resource)) return 'function';
  return undefined;
}

// Each entry: a field the engine ignores or misreads, and why it is refused.
const STATE_FIELDS: Array<[string, string]> = [
  ['Arguments', 'JSONata (Arguments)'],
  ['Output', 'JSONata (Output)'],
  ['Assign', 'variables (Assign)'],
  ['ItemReader', 'Distributed Map (ItemReader)'],
  ['ItemBatcher', 'Distributed Map (ItemBatcher)'],
  ['ResultWriter', 'Distributed Map (ResultWriter)'],
  ['ToleratedFailureCount', 'Distributed Map (ToleratedFailureCount)'],
  ['ToleratedFailureCountPath', 'Distributed Map (ToleratedFailureCountPath)'],
  ['ToleratedFailurePercentage', 'Distributed Map (ToleratedFailurePercentage)'],
  ['ToleratedFailurePercentagePath', 'Distributed Map (ToleratedFailurePercentagePath)'],
  ['Label', 'Distributed Map (Label)'],
];
const RULE_FIELDS: Array<[string, string]> = [
  ['Assign', 'variables (Assign)'],
  ['Output', 'JSONata (Output)'],
  ['Condition', 'JSONata (Condition)'],
];

function refuse(where: string, feature: string): never {
  throw new SfnError(
    'InvalidDefinition',
    `Invalid State Machine Definition: '${feature} at ${where || 'the top level'}' is not supported by the local Step Functions endpoint, which runs JSONPath definitions only`,
  );
}

function checkRules(rules: unknown, where: string, label: string): void {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule, i) => {
    if (!isObject(rule)) return;
    for (const [field, feature] of RULE_FIELDS) if (field in rule) refuse(`${where} ${label}[${i}]`, feature);
  });
}

function checkTask(state: Json, where: string): void {
  const kind = taskKind(state.Resource);
  if (!kind) {
    throw new SfnError(
      'InvalidDefinition',
      `Invalid State Machine Definition: the Task '${where}' has Resource '${String(state.Resource)}', which the local endpoint cannot run (supported: ${INVOKE}, ${CALLBACK}, Lambda function ARNs)`,
    );
  }
  if (kind !== 'function') {
    const params = state.Parameters;
    if (!isObject(params) || !('FunctionName' in params || 'FunctionName.$' in params)) {
      throw new SfnError(
        'InvalidDefinition',
        `Invalid State Machine Definition: the Task '${where}' must set Parameters.FunctionName`,
      );
    }
  }
  const { HeartbeatSeconds: heartbeat, TimeoutSeconds: timeout } = state;
  if (typeof heartbeat === 'number' && typeof timeout === 'number' && heartbeat >= timeout) {
    throw new SfnError(
      'InvalidDefinition',
      `Invalid State Machine Definition: the Task '${where}' has HeartbeatSeconds not smaller than TimeoutSeconds`,
    );
  }
}

/**
 * Refuses, with `InvalidDefinition` and a message naming the state, what the engine would run
 * silently wrong: JSONata, variables, Distributed Map, and Task resources without a local handler.
 *
 * @example
 * assertSupported({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Succeed' } } });
 * // throws SfnError InvalidDefinition
 */
export function assertSupported(definition: unknown): void {
  if (!isObject(definition)) return;
  if (definition.QueryLanguage === 'JSONata') refuse('', 'JSONata (QueryLanguage)');
  forEachState(definition, ({ state, where }) => {
    if (state.QueryLanguage === 'JSONata') refuse(where, 'JSONata (QueryLanguage)');
    for (const [field, feature] of STATE_FIELDS) if (field in state) refuse(where, feature);
    checkRules(state.Catch, where, 'Catch');
    checkRules(state.Choices, where, 'Choices');
    const processor = state.ItemProcessor;
    if (isObject(processor) && isObject(processor.ProcessorConfig)) {
      if (processor.ProcessorConfig.Mode === 'DISTRIBUTED')
        refuse(where, 'Distributed Map (Mode DISTRIBUTED)');
    }
    if (state.Type === 'Task') checkTask(state, where);
  });
}

function resourceProblem(resource: string): string | undefined {
  if (taskKind(resource)) return undefined;
  return `Resource '${resource}' cannot run on the local endpoint (supported: ${INVOKE}, ${CALLBACK}, Lambda function ARNs)`;
}

/**
 * The own engine's refusal at CreateStateMachine: whatever its `validate` finds, Task resources
 * without a local handler, and `lambda:invoke` tasks without a FunctionName, in one
 * `InvalidDefinition` naming each state and field.
 *
 * @example
 * assertRunsOnOwnEngine({ StartAt: 'A', States: { A: { Type: 'Pass', ItemReader: {}, End: true } } });
 * // throws SfnError InvalidDefinition
 */
export function assertRunsOnOwnEngine(definition: Json): void {
  const problems: DefinitionProblem[] = validate(definition, { resource: resourceProblem });
  forEachState(definition, ({ state, where }) => {
    const kind = taskKind(state.Resource);
    if (state.Type !== 'Task' || (kind !== 'invoke' && kind !== 'callback')) return;
    const field = 'Arguments' in state ? 'Arguments' : 'Parameters';
    const args = state[field];
    // A JSONata Arguments that is one expression can only be checked when it runs.
    if (typeof args === 'string' && args.startsWith('{%')) return;
    if (!isObject(args) || !('FunctionName' in args || 'FunctionName.$' in args)) {
      problems.push({ state: where, field, message: `the Task must set ${field}.FunctionName` });
    }
  });
  if (problems.length > 0) {
    throw new SfnError(
      'InvalidDefinition',
      `Invalid State Machine Definition: '${describeProblems(problems)}'`,
    );
  }
}
