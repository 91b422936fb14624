// Data-dependent argument checks, run before any kernel (torch raises these from Python).
import type { InputCheck } from '../compiler/loss.js';
import { shapeStr } from './tensor.js';
import { sameDims } from './strides.js';

export interface Arg {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Apply the checks in order; may replace an argument's shape (a view: the data is shared). */
export function applyChecks(loss: string, checks: readonly InputCheck[], args: Map<string, Arg>): void {
  const fail = (msg: string): never => {
    throw new Error(`${loss}: ${msg}`);
  };
  for (const c of checks) {
    const a = args.get(c.input);
    if (!a) continue;
    switch (c.kind) {
      case 'nonNegative':
        for (let i = 0; i < a.data.length; i++) if (a.data[i]! < 0) fail(`${c.message} (${c.input}[${i}] = ${a.data[i]})`);
        break;
      case 'range':
        for (let i = 0; i < a.data.length; i++) {
          const v = a.data[i]!;
          if (!(v >= c.min && v <= c.max)) fail(`${c.message} (${c.input}[${i}] = ${v})`);
        }
        break;
      case 'sameShape': {
        const like = args.get(c.like)!;
        if (!sameDims(a.shape, like.shape)) fail(c.message.replace(`{${c.input}}`, shapeStr(a.shape)).replace(`{${c.like}}`, shapeStr(like.shape)));
        break;
      }
      case 'unsqueezeLastIfMissing': {
        const like = args.get(c.like)!;
        if (sameDims(a.shape, like.shape)) break;
        if (sameDims(a.shape, like.shape.slice(0, -1))) args.set(c.input, { data: a.data, shape: [...a.shape, 1] });
        else if (a.shape.length === like.shape.length && sameDims(a.shape.slice(0, -1), like.shape.slice(0, -1)) && a.shape[a.shape.length - 1] === 1) break;
        else fail(`${c.message}: ${c.input} has shape ${shapeStr(a.shape)}, ${c.like} has shape ${shapeStr(like.shape)}`);
        break;
      }
    }
  }
}
