import type { Json, QueryLanguage } from './types.js';

/**
 * Fields every state may have.
 *
 * @example
 * COMMON.includes('Comment'); // true
 */
export const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const FLOW = ['Next', 'End'];
const PATH_IO = ['InputPath', 'OutputPath'];
const PATH_RESULT = ['Parameters', 'ResultSelector', 'ResultPath'];
const ERRORS = ['Retry', 'Catch'];
/**
 * Map fields that take a number (JSONPath also has a `...Path` twin of each).
 *
 * @example
 * MAP_NUMBERS.map((n) => `${n}Path`);
 */
export const MAP_NUMBERS = ['MaxConcurrency', 'ToleratedFailureCount', 'ToleratedFailurePercentage'];

/**
 * The fields each state type may have, per query language, besides {@link COMMON}.
 *
 * @example
 * FIELDS.JSONata.Pass; // ['Next', 'End', 'Output', 'Assign']
 */
export const FIELDS: Record<QueryLanguage, Record<string, string[]>> = {
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

/**
 * Fields AWS has that this engine does not run, with the feature named in the refusal.
 *
 * @example
 * UNSUPPORTED.ItemReader; // 'Distributed Map (ItemReader)'
 */
export const UNSUPPORTED: Record<string, string> = {
  ItemReader: 'Distributed Map (ItemReader)',
  ItemBatcher: 'Distributed Map (ItemBatcher)',
  ResultWriter: 'Distributed Map (ResultWriter)',
  Label: 'Distributed Map (Label)',
  Credentials: 'cross-account Task Credentials',
};

/**
 * A valid workflow variable name.
 *
 * @example
 * VARIABLE_NAME.test('lease'); // true
 */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Narrows a value to a plain JSON object.
 *
 * @example
 * isObject([]); // false
 */
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
