// The guide's Custom_MSE, as a class extending Loss with a forward method: read by
// `lossc compile`, compiled into the same kernels as nn.MSELoss.
import { Loss, type Tensor, mean } from 'lossc/loss';

/** Mean squared error, in the class form. */
export class CustomMSE extends Loss {
  forward(predictions: Tensor, target: Tensor): Tensor {
    const squareDifference = (predictions - target) * (predictions - target);
    return mean(squareDifference);
  }
}
