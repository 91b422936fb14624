// Multi-class focal loss (Lin et al., 2017) as a plain TypeScript function: logits and int32
// class indices in, -(1 - p_t)^gamma log(p_t) out, with options as a last parameter object.
// `lossc compile examples/multiclassFocal.ts -o out` reads it statically; it is never run.
import { type IntTensor, type Tensor, exp, gather, logSoftmax, mean, sum } from 'lossc/loss';

/** Focal loss over classes: -(1 - p_t)^gamma log(p_t), p_t = softmax(input)[target] per row. */
export function multiclassFocal(
  input: Tensor,
  target: IntTensor,
  { gamma = 2, reduction = 'mean' }: { gamma?: number; reduction?: 'none' | 'mean' | 'sum' } = {},
): Tensor {
  const logPt = gather(logSoftmax(input, 1), target, 1);
  const loss = -((1 - exp(logPt)) ** gamma) * logPt;
  return reduction === 'none' ? loss : reduction === 'sum' ? sum(loss) : mean(loss);
}
