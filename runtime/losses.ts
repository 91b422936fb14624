// The nn namespace: one class per built-in loss, named as torch names it.
import { Loss, type Backend } from './nn.js';
import type { LossDef } from '../compiler/loss.js';
import type { Tensor } from './tensor.js';
import type { Node } from '../compiler/ir/node.js';
import { loadStdlib } from '../dsl/stdlib/index.js';

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

function lossClass(def: LossDef): LossClass {
  const C = class extends Loss {
    constructor(options: LossOptions = {}, backend?: Backend) {
      super(def, options, backend);
    }
  };
  Object.defineProperty(C, 'name', { value: def.name });
  return C;
}

/** The stdlib: every built-in loss is a .loss file (dsl/stdlib/*.loss), read as a user's loss is. */
export const builtinLosses: readonly LossDef[] = loadStdlib();

export function builtinLoss(name: string): LossDef | undefined {
  return builtinLosses.find((d) => d.name === name);
}

const cls = (name: string): LossClass => lossClass(builtinLoss(name)!);

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
