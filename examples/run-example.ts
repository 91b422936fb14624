// `npm run example`: compile a loss, run it, and show what the compiler made of it.
import { nn, tensor } from 'lossc';
import { customMse } from './customMse.js';

const [N, C] = [4, 3];
const input = tensor(
  Array.from({ length: N * C }, (_, i) => Math.sin(i + 1)),
  [N, C],
);
const target = tensor(
  Array.from({ length: N * C }, (_, i) => Math.cos(2 * i)),
  [N, C],
);

const builtin = new nn.MSELoss();
const { value, grads } = customMse.valueAndGrad(input, target);
const reference = builtin.valueAndGrad(input, target);

const fmt = (xs: ArrayLike<number>) => Array.from(xs, (v) => v.toFixed(5)).join(', ');
console.log(`CustomMSE (TS builders) value: ${value.data[0]}`);
console.log(`nn.MSELoss           value: ${reference.value.data[0]}`);
console.log(`d loss / d predictions [${grads[0]!.shape.join(', ')}]: ${fmt(grads[0]!.data)}`);
console.log(`identical to nn.MSELoss: ${value.data[0] === reference.value.data[0] && grads[0]!.data.every((g, i) => g === reference.grads[0]!.data[i])}`);
console.log('');
console.log(customMse.explain('valueAndGrad').text.split('== fuse\n')[1]);

const big = 1 << 20;
const x = tensor(
  Float32Array.from({ length: big }, (_, i) => Math.sin(i)),
  [big],
);
const y = tensor(
  Float32Array.from({ length: big }, (_, i) => Math.cos(i)),
  [big],
);
const bce = new nn.BCEWithLogitsLoss();
bce.valueAndGrad(x, y);
const t0 = performance.now();
const r = bce.valueAndGrad(x, y);
console.log(`\nBCEWithLogitsLoss.valueAndGrad on ${big} float32 elements: ${(performance.now() - t0).toFixed(2)} ms, loss ${r.value.data[0]!.toFixed(6)}`);
