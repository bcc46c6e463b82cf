/**
 * Lays out rows under headers in columns two spaces apart, for the human output of `dlm`.
 *
 * @example
 * textTable(['slot', 'owner'], [['0', 'host:42']]);
 * // 'slot  owner\n0     host:42\n'
 */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[headers, ...rows].map(line).join('\n')}\n`;
}

/**
 * A stored string made safe for a terminal: control characters (an owner or resource id may
 * hold anything) become `?`, so they cannot move the cursor or forge lines.
 *
 * @example
 * printable('worker\u001b[2J'); // 'worker?[2J'
 */
export function printable(value: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return value === undefined ? '-' : value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * A moment as ISO 8601 with how far it is from now, in whole seconds.
 *
 * @example
 * whenFromNow(Date.now() + 9_500, Date.now()); // '2025-06-01T12:00:09.500Z (in 10s)'
 */
export function whenFromNow(atMs: number, nowMs: number): string {
  const deltaMs = atMs - nowMs;
  // Rounded away from now on both sides: a lease shown "in 0s" has not a full second left.
  const relative = deltaMs >= 0 ? `in ${Math.ceil(deltaMs / 1000)}s` : `${Math.floor(-deltaMs / 1000)}s ago`;
  return `${new Date(atMs).toISOString()} (${relative})`;
}
