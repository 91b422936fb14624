// The nn namespace: one class per built-in loss, named as torch names it.
import { Loss, type Backend } from './nn.js';
import type { LossDef } from '../compiler/loss.js';
import type { Tensor } from './tensor.js';
import type { Node } from '../compiler/ir/node.js';
import { stdlibSources } from '../dsl/stdlib/index.js';
import { lazyStdlib } from '../dsl/stdlib/lazy.js';

/** Every option of every built-in loss, camelCased from torch's names, with torch's defaults. */
export interface LossOptions {
  reduction?: 'none' | 'mean' | 'sum' | 'batchmean';
  weight?: Tensor | null;
  posWeight?: Tensor | null;
  margin?: number;
  beta?: number;
  delta?: number;
  eps?: number;
  full?: boolean;
  logInput?: boolean;
  logTarget?: boolean;
  ignoreIndex?: number;
  labelSmoothing?: number;
  p?: number;
  swap?: boolean;
  distanceFunction?: ((a: Node, b: Node) => Node) | null;
  blank?: number;
  zeroInfinity?: boolean;
  [option: string]: unknown;
}

export type LossClass = new (options?: LossOptions) => Loss;

/** A built-in loss's class: its .loss file is read when the first instance is made. */
function lossClass(name: string): LossClass {
  const C = class extends Loss {
    constructor(options: LossOptions = {}, backend?: Backend) {
      super(builtinLoss(name)!, options, backend);
    }
  };
  Object.defineProperty(C, 'name', { value: name });
  return C;
}

/** The stdlib: every built-in loss is a .loss file (dsl/stdlib/*.loss), read as a user's loss is, when first used. */
const stdlib = lazyStdlib(stdlibSources);

/** Every built-in loss (reading this reads every .loss file; `builtinLoss(name)` reads one). */
export const builtinLosses: readonly LossDef[] = loadedOnFirstUse(() => stdlib.all());

export function builtinLoss(name: string): LossDef | undefined {
  return stdlib.get(name);
}

/**
 * The .loss source a built-in loss is written in (every loss of its file, as a user's .loss text):
 * the file's name in dsl/stdlib and its text; undefined for an unknown name.
 */
export function builtinLossSource(name: string): { readonly file: string; readonly text: string } | undefined {
  return stdlib.source(name);
}

/** An array whose elements are computed when it is first read (it is never written). */
function loadedOnFirstUse<T>(load: () => readonly T[]): readonly T[] {
  let items: readonly T[] | undefined;
  const target = (): readonly T[] => (items ??= load());
  return new Proxy([] as T[], {
    get: (_, key) => Reflect.get(target(), key),
    has: (_, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), key);
      return d && { ...d, configurable: true };
    },
    set: () => false,
    deleteProperty: () => false,
  });
}

const cls = lossClass;

export const nn = {
  L1Loss: cls('L1Loss'),
  MSELoss: cls('MSELoss'),
  SmoothL1Loss: cls('SmoothL1Loss'),
  HuberLoss: cls('HuberLoss'),
  SoftMarginLoss: cls('SoftMarginLoss'),
  BCELoss: cls('BCELoss'),
  BCEWithLogitsLoss: cls('BCEWithLogitsLoss'),
  PoissonNLLLoss: cls('PoissonNLLLoss'),
  GaussianNLLLoss: cls('GaussianNLLLoss'),
  KLDivLoss: cls('KLDivLoss'),
  MarginRankingLoss: cls('MarginRankingLoss'),
  HingeEmbeddingLoss: cls('HingeEmbeddingLoss'),
  CrossEntropyLoss: cls('CrossEntropyLoss'),
  NLLLoss: cls('NLLLoss'),
  MultiMarginLoss: cls('MultiMarginLoss'),
  MultiLabelMarginLoss: cls('MultiLabelMarginLoss'),
  MultiLabelSoftMarginLoss: cls('MultiLabelSoftMarginLoss'),
  CosineEmbeddingLoss: cls('CosineEmbeddingLoss'),
  TripletMarginLoss: cls('TripletMarginLoss'),
  TripletMarginWithDistanceLoss: cls('TripletMarginWithDistanceLoss'),
  CTCLoss: cls('CTCLoss'),
} as const;
