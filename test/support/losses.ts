// Groups of built-in losses that several tests drive the same way.

/** the pointwise losses whose arguments broadcast freely (BCE* and GaussianNLL insist on equal shapes) */
export const POINTWISE: readonly string[] = [
  'L1Loss',
  'MSELoss',
  'SmoothL1Loss',
  'HuberLoss',
  'SoftMarginLoss',
  'PoissonNLLLoss',
  'KLDivLoss',
  'MarginRankingLoss',
  'HingeEmbeddingLoss',
];
