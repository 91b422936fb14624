// A loss's structural variant for given option values: the one key that says which compiled
// graph a call needs. Self-contained (no imports): the standalone run time bundles it, and the
// compiler, the packager and that run time must agree on it to the character.

/** What the key reads of an option declaration. */
export interface VariantOption {
  readonly name: string;
  readonly type: string;
  /** a numeric option whose listed values each build their own graph (any other value is a run-time parameter) */
  readonly cases?: readonly number[];
}

/**
 * The variant key: tensor options by whether they are given, function options by `functionKey`
 * (by default only whether one is given), numeric options by their case or 'other', the rest
 * (booleans, choices) by value. Numeric options without cases are parameters: not in the key.
 */
export function variantKey(
  options: readonly VariantOption[],
  values: Readonly<Record<string, unknown>>,
  functionKey: (f: unknown) => string = (f) => (typeof f === 'function' ? 'fn' : 'none'),
): string {
  return options
    .filter((o) => o.type !== 'number' || (o.cases?.length ?? 0) > 0)
    .map((o) => {
      const v = values[o.name];
      const text =
        o.type === 'tensor'
          ? v == null
            ? 'none'
            : 'given'
          : o.type === 'function'
            ? functionKey(v)
            : o.type === 'number'
              ? o.cases!.includes(v as number)
                ? String(v)
                : 'other'
              : String(v);
      return `${o.name}=${text}`;
    })
    .join(',');
}
