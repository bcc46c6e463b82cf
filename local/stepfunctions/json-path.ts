const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\['([^']*)'\]|\["([^"]*)"\]|\[(\d+)\])/;

/**
 * Reads a simple JSONPath (`$`, `$.a.b`, `$['a']`, `$.list[0]`) from `value`; `undefined` when
 * the path does not resolve or uses anything fancier (filters, wildcards, `$$`).
 *
 * @example
 * readPath('$.limits.heartbeat', { limits: { heartbeat: 30 } }); // 30
 * readPath('$.items[*]', {}); // undefined
 */
export function readPath(path: string, value: unknown): unknown {
  if (!path.startsWith('$') || path.startsWith('$$')) return undefined;
  let rest = path.slice(1);
  let current = value;
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (!match) return undefined;
    rest = rest.slice(match[0].length);
    const index = match[4];
    if (index !== undefined) {
      if (!Array.isArray(current)) return undefined;
      current = current[Number(index)];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      const key = match[1] ?? match[2] ?? match[3] ?? '';
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
  }
  return current;
}
