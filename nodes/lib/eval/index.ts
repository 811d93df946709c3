/**
 * Evaluation, apart from the runtime: the node pipeline replayed without Node-RED (recordings and
 * MOTChallenge files), counting accuracy against ground truth, MOT metrics. The CLI's `run`,
 * `count`, `mot-eval` and benchmarks use it; no node loads it.
 */
export * from './pipeline';
export * from './count-mot';
export * from './count-accuracy';
