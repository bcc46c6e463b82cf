import './polyfill.js';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type ArnScope, assertArn, assertName, stateMachineArn } from './arns.js';
import { assertRunsOnOwnEngine, assertSupported } from './definition-check.js';
import { rewriteDefinition } from './definition-rewrite.js';
import { isObject, type Json } from './definition-walk.js';
import { SfnError } from './errors.js';
import type { TaskSpec } from './types.js';

/**
 * A created state machine: what DescribeStateMachine reports, plus the engine's machine built
 * once from the rewritten definition and the local handler needs of its Task states.
 *
 * @example
 * const record = machines.get(arn);
 * record.machine.run(input, options);
 */
export interface StateMachineRecord {
  arn: string;
  name: string;
  definition: string;
  roleArn: string;
  creationDate: number;
  /** When UpdateStateMachine last changed it, if ever. */
  updateDate?: number;
  /** Which engine runs it; `parsed` is what the own engine runs, `machine` the other's. */
  engine: EngineName;
  parsed: Json;
  machine?: StateMachine;
  tasks: ReadonlyMap<string, TaskSpec>;
}

/**
 * The engines the endpoint can run state machines on: the project's own (`local/stepfunctions/engine`,
 * JSONPath and JSONata) or `aws-local-stepfunctions` (JSONPath only).
 *
 * @example
 * const engine: EngineName = 'own';
 */
export type EngineName = 'own' | 'aws-local-stepfunctions';

/**
 * Arguments of CreateStateMachine the endpoint honours.
 *
 * @example
 * machines.create({ name: 'orders', definition: JSON.stringify(asl), roleArn: 'arn:aws:iam::000000000000:role/sfn' });
 */
export interface CreateStateMachineInput {
  name: string;
  definition: string;
  roleArn: string;
}

// The engine's validator compiles its JSON schemas on every call (100-300 ms); the same
// definition text is validated once per process.
const validated = new Set<string>();
const MAX_VALIDATED = 1_000;

function parseDefinition(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SfnError(
      'InvalidDefinition',
      `Invalid State Machine Definition: '${(error as Error).message}'`,
    );
  }
  if (!isObject(parsed)) {
    throw new SfnError(
      'InvalidDefinition',
      'Invalid State Machine Definition: the definition is not a JSON object',
    );
  }
  return parsed;
}

function validate(definition: Record<string, unknown>, text: string): void {
  if (validated.has(text)) return;
  try {
    // The validator writes QueryLanguage into the states it checks: give it a copy.
    new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition);
  } catch (error) {
    const detail = (error as Error).message.replace(
      /^State machine definition is invalid, see error\(s\) below:\s*/,
      '',
    );
    throw new SfnError('InvalidDefinition', `Invalid State Machine Definition: '${detail.trim()}'`);
  }
  if (validated.size >= MAX_VALIDATED) validated.clear();
  validated.add(text);
}

/**
 * The state machines of one endpoint. CreateStateMachine is idempotent for the same definition
 * and role, as on AWS.
 *
 * @example
 * const machines = new StateMachines({ region: 'us-east-1', accountId: '000000000000' });
 * const { arn } = machines.create({ name: 'orders', definition, roleArn });
 */
export class StateMachines {
  readonly #scope: ArnScope;
  readonly #engine: EngineName;
  readonly #byArn = new Map<string, StateMachineRecord>();

  constructor(scope: ArnScope, engine: EngineName = 'own') {
    this.#scope = scope;
    this.#engine = engine;
  }

  /** Validates, rewrites and registers a state machine; returns the existing one when identical. */
  create(input: CreateStateMachineInput): StateMachineRecord {
    assertName(input.name);
    const arn = stateMachineArn(this.#scope, input.name);
    const parsed = parseDefinition(input.definition);
    const existing = this.#byArn.get(arn);
    if (existing) {
      const same =
        existing.roleArn === input.roleArn &&
        JSON.stringify(parseDefinition(existing.definition)) === JSON.stringify(parsed);
      if (same) return existing;
      throw new SfnError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const record = { arn, ...built(this.#engine, parsed, input), creationDate: Date.now() };
    this.#byArn.set(arn, record);
    return record;
  }

  /**
   * ValidateStateMachineDefinition: the refusal CreateStateMachine would answer, or undefined;
   * nothing is registered.
   */
  check(definition: string): SfnError | undefined {
    try {
      built(this.#engine, parseDefinition(definition), { name: 'validated', definition, roleArn: '' });
      return undefined;
    } catch (error) {
      if (error instanceof SfnError) return error;
      throw error;
    }
  }

  /**
   * UpdateStateMachine: a new definition or role for the executions started from now on (a
   * running execution keeps the record it started with). A refused definition changes nothing.
   */
  update(arn: string, change: { definition?: string; roleArn?: string }): StateMachineRecord {
    const current = this.get(arn);
    const definition = change.definition ?? current.definition;
    const input = { name: current.name, definition, roleArn: change.roleArn ?? current.roleArn };
    const record = {
      ...current,
      ...built(this.#engine, parseDefinition(definition), input),
      updateDate: Date.now(),
    };
    this.#byArn.set(arn, record);
    return record;
  }

  /** DeleteStateMachine: gone for new executions and Describe; running ones go on. */
  delete(arn: string): void {
    assertArn(arn, 'stateMachine');
    this.#byArn.delete(arn);
  }

  /** ListStateMachines: in creation order. */
  list(): StateMachineRecord[] {
    return [...this.#byArn.values()];
  }

  /** The state machine with this ARN; `InvalidArn` or `StateMachineDoesNotExist` otherwise. */
  get(arn: string): StateMachineRecord {
    assertArn(arn, 'stateMachine');
    const record = this.#byArn.get(arn);
    if (!record) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return record;
  }
}

/**
 * Checks a parsed definition as CreateStateMachine does for the endpoint's engine and builds what
 * that engine runs: the definition itself for the own engine, the other's machine of its rewrite.
 */
function built(
  engine: EngineName,
  parsed: Record<string, unknown>,
  input: CreateStateMachineInput,
): Omit<StateMachineRecord, 'arn' | 'creationDate'> {
  const common = { name: input.name, definition: input.definition, roleArn: input.roleArn, engine, parsed };
  if (engine === 'own') {
    assertRunsOnOwnEngine(parsed);
    return { ...common, tasks: new Map() };
  }
  assertSupported(parsed);
  validate(parsed, input.definition);
  const { definition, tasks } = rewriteDefinition(parsed);
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  return { ...common, machine, tasks };
}
