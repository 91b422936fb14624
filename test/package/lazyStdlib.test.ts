// The built-in library is read on demand (dsl/stdlib/lazy.ts): the same losses as reading every
// file at once, a file parsed only when one of its losses is asked for.
import { describe, expect, it } from 'vitest';
import { lazyStdlib } from '../../dsl/stdlib/lazy.js';
import { compileStdlib } from '../../dsl/stdlib/compile.js';
import { stdlibSources } from '../../dsl/stdlib/index.js';

describe('the lazily read stdlib', () => {
  it('has every loss of every .loss file, in file order, as compileStdlib reads them', () => {
    const eager = compileStdlib(stdlibSources());
    const lazy = lazyStdlib(stdlibSources);
    expect(lazy.names()).toEqual(eager.map((d) => d.name));
    const shape = (d: { name: string; doc: string; inputs: unknown; options: unknown; overloads?: readonly unknown[] }) => ({
      name: d.name,
      doc: d.doc,
      inputs: d.inputs,
      options: d.options,
      overloads: d.overloads?.length ?? 0,
    });
    expect(lazy.all().map(shape)).toEqual(eager.map(shape));
    expect(lazy.get('NoSuchLoss')).toBeUndefined();
  });

  it('reads only the file of the loss asked for', () => {
    const read: string[] = [];
    const files = stdlibSources();
    const watched = new Map([...files].map(([f, text]) => [f, text] as const));
    const lazy = lazyStdlib(
      () =>
        new Proxy(watched, {
          get(target, key) {
            const v = Reflect.get(target, key, target);
            return key === 'get' ? (f: string) => (read.push(f), target.get(f)) : typeof v === 'function' ? v.bind(target) : v;
          },
        }),
    );
    lazy.names(); // lexes every file to index the names
    read.length = 0;
    expect(lazy.get('MSELoss')?.name).toBe('MSELoss');
    expect(read).toEqual(['regression.loss']);
  });

  it('a name declared in two files is an error naming both', () => {
    const files = new Map([
      ['a.loss', 'loss Twice(x: f32[N]) {\n  return mean(x)\n}\n'],
      ['b.loss', 'loss Twice(x: f32[N]) {\n  return sum(x)\n}\n'],
    ]);
    expect(() => lazyStdlib(() => files).names()).toThrow('lossc: the built-in loss Twice is defined twice (in a.loss and b.loss)');
  });
});
