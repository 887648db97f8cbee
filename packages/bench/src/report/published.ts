/**
 * The kernel's published `bench_ringbufs` numbers (bpf-ringbuf-spec §7, from the 2020 series'
 * patch 4/5 on a 28-core Xeon E5-2680 v4). Other hardware, other decade: shown for shape, labelled.
 */
export const KERNEL_HW = 'the kernel (published 2020, 28-core Xeon E5-2680 v4)';
/** rb-libbpf back-to-back, sampled, M records/s by sample rate. */
export const KERNEL_SAMPLE_RATE: ReadonlyArray<[number, number]> = [
  [1, 1.106],
  [5, 4.746],
  [10, 7.706],
  [25, 12.893],
  [50, 15.961],
  [100, 18.203],
  [250, 19.962],
  [500, 20.881],
  [1000, 21.317],
  [2000, 21.331],
  [3000, 21.688],
];
/** rb-libbpf, batch 50, M records/s by producer count. */
export const KERNEL_PRODUCERS: ReadonlyArray<[number, number]> = [
  [1, 10.916],
  [2, 4.931],
  [3, 4.88],
  [4, 3.926],
  [8, 4.011],
];
/** Other rows of the published table (M/s). */
export const KERNEL_TABLE = {
  parallel: 12.054,
  parallelSampled: 11.563,
  b2b: 15.507,
  b2bSampled: 14.692,
  reserveB2b: 22.819,
  outputB2b: 18.906,
  reserveB2bSampled: 15.35,
  outputB2bSampled: 14.195,
};
