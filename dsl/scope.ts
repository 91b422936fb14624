// Lexical scopes, shared by both front ends (.loss and TypeScript): names to bindings, looked up
// outward. What a redefinition means is the language's own rule (a .loss never redefines a
// name; TypeScript shadows in an inner block), so each front end adds through its own policy.
export class LexicalScope<B extends { readonly name: string }> {
  protected readonly names = new Map<string, B>();
  constructor(readonly parent: LexicalScope<B> | null = null) {}

  lookup(name: string): B | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  /** innermost first; lazily, so a caller that stops early (a did-you-mean search) reads only what it needs */
  *visibleNames(): Generator<string> {
    for (let s: LexicalScope<B> | null = this; s; s = s.parent) yield* s.names.keys();
  }
  /** Bind `b` in this scope, hiding any outer binding of its name. */
  protected bind(b: B): void {
    this.names.set(b.name, b);
  }
}
