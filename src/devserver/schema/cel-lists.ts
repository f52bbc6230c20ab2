// The Kubernetes CEL list library functions @bufbuild/cel lacks: isSorted, sum, min, max, indexOf,
// lastIndexOf (https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-list-library).
import { celMethod, CelScalar, listType, type CelFunc, type CelList, type CelValue } from '@bufbuild/cel';

type Comparable = bigint | number | string | boolean;

function comparable(value: CelValue, fn: string): Comparable {
  if (
    typeof value === 'bigint' ||
    typeof value === 'number' ||
    typeof value === 'string' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  throw new Error(`${fn}: list elements must be numbers, strings or booleans`);
}

function compare(a: Comparable, b: Comparable, fn: string): number {
  const numeric = (v: Comparable): v is bigint | number => typeof v === 'bigint' || typeof v === 'number';
  if (numeric(a) && numeric(b)) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a !== typeof b) throw new Error(`${fn}: cannot compare ${typeof a} with ${typeof b}`);
  return a < b ? -1 : a > b ? 1 : 0;
}

function elements(list: CelList, fn: string): Comparable[] {
  return [...list].map(value => comparable(value, fn));
}

function extreme(list: CelList, fn: 'min' | 'max'): Comparable {
  const items = elements(list, fn);
  const first = items[0];
  if (first === undefined) throw new Error(`${fn}: list is empty`);
  const sign = fn === 'min' ? -1 : 1;
  return items.reduce((best, item) => (compare(item, best, fn) * sign > 0 ? item : best), first);
}

function sum(list: CelList): bigint | number {
  const items = elements(list, 'sum');
  if (items.every(item => typeof item === 'bigint')) return items.reduce((a, b) => a + b, 0n);
  if (items.every(item => typeof item === 'number')) return items.reduce((a, b) => a + b, 0);
  throw new Error('sum: list elements must all be int or all be double');
}

function position(list: CelList, value: CelValue, fromEnd: boolean): bigint {
  const items = [...list];
  const indexes = items.map((_, i) => i);
  if (fromEnd) indexes.reverse();
  const found = indexes.find(i => {
    const item = items[i];
    return (
      item !== undefined &&
      typeof item !== 'object' &&
      typeof value !== 'object' &&
      compare(comparable(item, 'indexOf'), comparable(value, 'indexOf'), 'indexOf') === 0
    );
  });
  return BigInt(found ?? -1);
}

const anyList = listType(CelScalar.DYN);

export const kubernetesListFunctions: readonly CelFunc[] = [
  celMethod('isSorted', anyList, [], CelScalar.BOOL, function (this: CelList): boolean {
    let previous: Comparable | undefined;
    for (const item of elements(this, 'isSorted')) {
      if (previous !== undefined && compare(previous, item, 'isSorted') > 0) return false;
      previous = item;
    }
    return true;
  }),
  celMethod('sum', anyList, [], CelScalar.DYN, function (this: CelList) {
    return sum(this);
  }),
  celMethod('min', anyList, [], CelScalar.DYN, function (this: CelList) {
    return extreme(this, 'min');
  }),
  celMethod('max', anyList, [], CelScalar.DYN, function (this: CelList) {
    return extreme(this, 'max');
  }),
  celMethod(
    'indexOf',
    anyList,
    [CelScalar.DYN],
    CelScalar.INT,
    function (this: CelList, value: CelValue): bigint {
      return position(this, value, false);
    },
  ),
  celMethod(
    'lastIndexOf',
    anyList,
    [CelScalar.DYN],
    CelScalar.INT,
    function (this: CelList, value: CelValue): bigint {
      return position(this, value, true);
    },
  ),
];
