// The guide's custom_mean_square_error, as a plain TypeScript function with ordinary operators.
// `lossc compile examples/customMseFunction.ts -o out` reads it (never runs it) and compiles it
// into the same kernels as nn.MSELoss; its types come from lossc's authoring entry 'lossc/loss'.
import { type Tensor, mean } from 'lossc/loss';

/** The mean of the squared differences between predictions and targets. */
export function customMse(predictions: Tensor, target: Tensor): Tensor {
  const squareDifference = (predictions - target) * (predictions - target);
  return mean(squareDifference);
}
