// The guide's custom mean squared error, written with lossc's TypeScript builders. It takes the
// same path as the built-in MSELoss (graph -> gradient -> simplify -> fuse -> JS kernel) and
// gives exactly its numbers.
import { compile, mean, mul, sub } from 'lossc';

export const customMse = compile({
  name: 'CustomMSE',
  inputs: ['predictions', 'target'],
  build: (predictions, target) => {
    const squareDifference = mul(sub(predictions, target), sub(predictions, target));
    return mean(squareDifference);
  },
});
