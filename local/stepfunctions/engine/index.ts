export { StatesError } from './errors.js';
export { type ExecutionOptions, runExecution } from './execution.js';
export type {
  ExecutionInfo,
  ExecutionResult,
  HistoryEvent,
  JsonValue,
  TaskCall,
  TaskRunner,
} from './types.js';
export { type DefinitionProblem, describeProblems, type ValidateOptions, validate } from './validate.js';
