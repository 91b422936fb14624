// `lossc/check`: what `lossc check` does, as a library: gradients against central finite
// differences on random valid inputs, and the inputs themselves (a loss's declared shapes, class
// indices and ranges). Pure computation over the public Loss, no Node built-ins: the playground
// runs it in the page.
export { checkGradients, type CheckResult, type CheckOptions } from './check.js';
export { randomInputs, seededRandom, type Random } from './inputs.js';
