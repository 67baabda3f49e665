/** Header block editing on raw lines, keeping folding intact. */

/**
 * The header lines without the fields `drop` matches, a field's continuation lines (starting with
 * a space or tab) going with it. `drop` sees the whole first line of each field.
 */
export function withoutFields(lines: readonly string[], drop: (firstLine: string) => boolean): string[] {
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = drop(line);
    if (!dropping) kept.push(line);
  }
  return kept;
}
