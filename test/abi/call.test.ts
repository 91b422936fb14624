// The kernel ABI layer (compiler/abi) as plain data: how a kernel is called for given shapes,
// decided once for every backend. No GPU, no compiled code: shapes in, strides and layouts out.
import { describe, expect, it } from 'vitest';
import { inputShape, reduceShape, scalarShape } from '../../compiler/ir/shape.js';
import { callDims, loopLayout, outputWrite, rowCall, scanCall, scatterCall, siteView } from '../../compiler/abi/call.js';
import type { Site } from '../../compiler/abi/sites.js';
import type { OutputSlot } from '../../compiler/abi/slots.js';
import type { Node } from '../../compiler/ir/node.js';

const x = inputShape('x', 2);
const b = inputShape('b', 1);
const dims = callDims(
  new Map([
    ['x', [3, 4]],
    ['b', [4]],
  ]),
);
const site = (buffer: string, shape = x, extra: Partial<Site> = {}): Site => ({ buffer, shape, path: [], ...extra });
const slot = (o: Partial<OutputSlot>): OutputSlot => ({ buffer: 'out', mode: 'store', phase: 'loop', register: false, shape: x, node: {} as Node, ...o });

describe('siteView and loopLayout', () => {
  it('reads a same-shaped tensor contiguously and a broadcast row with stride 0 along the broadcast axis', () => {
    expect(siteView(site('x'), [3, 4], dims)).toEqual({ strides: [4, 1], gatherStrides: [] });
    expect(siteView(site('b', b), [3, 4], dims)).toEqual({ strides: [0, 1], gatherStrides: [] });
  });
  it('is flat when every operand walks the domain contiguously, else strided over coalesced axes', () => {
    expect(
      loopLayout(
        [3, 4],
        [
          [4, 1],
          [4, 1],
        ],
      ),
    ).toEqual({ flat: true, n: 12, dims: [3, 4], strides: [] });
    // x and a broadcast b: the two axes cannot merge (b restarts every row)
    expect(
      loopLayout(
        [3, 4],
        [
          [4, 1],
          [0, 1],
        ],
      ),
    ).toEqual({
      flat: false,
      n: 12,
      dims: [3, 4],
      strides: [
        [4, 1],
        [0, 1],
      ],
    });
    // a transposed read: no two axes walk contiguously in both views, so none merge
    expect(
      loopLayout(
        [2, 3, 4],
        [
          [12, 4, 1],
          [1, 2, 6],
        ],
      ),
    ).toEqual({
      flat: false,
      n: 24,
      dims: [2, 3, 4],
      strides: [
        [12, 4, 1],
        [1, 2, 6],
      ],
    });
    // a read whose last two axes are contiguous in every view: merged into one axis of 12
    expect(
      loopLayout(
        [2, 3, 4],
        [
          [12, 4, 1],
          [0, 4, 1],
        ],
      ),
    ).toEqual({
      flat: false,
      n: 24,
      dims: [2, 12],
      strides: [
        [12, 1],
        [0, 1],
      ],
    });
    // every axis of size 1 and a scatter into a scalar: one strided element
    expect(
      loopLayout(
        [1, 1],
        [
          [0, 0],
          [0, 0],
          [1, 1],
        ],
      ),
    ).toEqual({ flat: false, n: 1, dims: [1], strides: [[0], [0], [0]] });
  });
});

describe('outputWrite: the one decision of how an output is written', () => {
  it('stores, keeps full reductions in a register, stores in place what visits each element once, scatters the rest', () => {
    expect(outputWrite(slot({}), [3, 4], [3, 4])).toBe('store');
    expect(outputWrite(slot({ mode: 'sum', register: true, shape: scalarShape }), [], [3, 4])).toBe('register');
    expect(outputWrite(slot({ mode: 'sum' }), [3, 4], [3, 4])).toBe('once');
    expect(outputWrite(slot({ mode: 'sum' }), [4], [3, 4])).toBe('scatter');
    // a value per row of a row kernel is written once per row
    expect(outputWrite(slot({ mode: 'max', accumulates: false }), [3], [3, 4])).toBe('store');
  });
});

describe('rowCall', () => {
  it('splits each slot into the outer strides (which row) and the one along the row', () => {
    const rowSum = reduceShape(x, [1], true);
    const addressed = [
      slot({ buffer: 'lse', mode: 'sum', shape: rowSum, from: x, reduction: { op: 'sum', axes: [1], keepDims: true }, addressed: true, accumulates: false }),
    ];
    const r = rowCall([3, 4], -1, [site('x'), site('b', b)], addressed, dims);
    expect(r).toMatchObject({ axis: 1, C: 4, rows: 3, along: [1, 1, 0] });
    expect(r.outer).toEqual({ dims: [3], strides: [[4], [0], [1]] });
  });
});

describe('scatterCall', () => {
  it('picks the kept axes (the target element) and the reduced ones (summed)', () => {
    const grad = slot({ buffer: 'gb', mode: 'sum', shape: reduceShape(x, [0], false), reduction: { op: 'sum', axes: [0] } });
    const s = scatterCall('k', [3, 4], grad, [site('x'), site('b', b)], dims);
    expect(s).toMatchObject({ m: 4, R: 3 });
    expect(s.kept).toEqual({ dims: [4], strides: [[1], [1]] });
    expect(s.red).toEqual({ dims: [3], strides: [[4], [0]] });
  });
});

describe('scanCall', () => {
  it('binds placeholders to the outer buffers, a sequence placeholder to one step, and counts the steps', () => {
    const shapes = new Map<string, number[]>([
      ['h0', [2, 5]],
      ['seq', [7, 2, 5]],
      ['w', [5]],
    ]);
    const carry = inputShape('@carry', 2);
    const step = inputShape('@x0', 2);
    const w = inputShape('@c0', 1);
    const s = scanCall(
      'scan',
      { reverse: false, bind: { '@carry': 'h0', '@x0': 'seq', '@c0': 'w' }, steps: 'seq' },
      [site('@carry', carry), site('@x0', step), site('@c0', w)],
      (n) => shapes.get(n),
    );
    expect(s).toMatchObject({ T: 7, n: 10, carry: [2, 5], step: [0, 10, 0] });
    expect(s.loop).toEqual({
      dims: [2, 5],
      strides: [
        [5, 1],
        [5, 1],
        [0, 1],
      ],
    });
  });
});
