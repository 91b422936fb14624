// The README's runnable snippets: every ```ts / ```js block as a module, every ```loss block as a
// module that compiles it with compileLossSource. ```sh blocks are not run here (the lossc
// commands they show are the CLI tests' subject).
export interface Snippet {
  /** the line of the opening fence, for messages */
  readonly line: number;
  readonly code: string;
}

export function readmeSnippets(markdown: string, tag?: string): Snippet[] {
  const out: Snippet[] = [];
  // "```ts tfjs": a snippet that needs a package the consumer does not install (its own test runs it)
  // "```js standalone": a snippet over a module `lossc compile` writes (test/cli/compileWasm.test.ts runs it)
  const fence = /^```(\w*)(?: (\w+))?\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(fence)) {
    const line = markdown.slice(0, m.index).split('\n').length;
    const [, lang, blockTag, body] = m;
    if (blockTag !== tag) continue;
    if (lang === 'ts' || lang === 'js') out.push({ line, code: body! });
    else if (lang === 'loss')
      out.push({ line, code: `import { compileLossSource } from 'lossc';\ncompileLossSource(${JSON.stringify(body)}, 'README.md');\n` });
  }
  return out;
}
