/**
 * The engine, for use without Node-RED (the `edgevision` CLI, scripts, other runtimes). Each area is
 * a namespace so that names stay unambiguous: `tracking.Tracker`, `counting.Counter`, …
 */
export * from './types';
export * as geometry from './geometry';
export * as frameStore from './frame-store';
export * as assets from './assets';
export * as video from './video/ffmpeg-source';
export * as detect from './detect/detector';
export * as tracking from './tracking/tracker';
export * as mot from './eval/mot/evaluate';
export * as evaluation from './eval';
export * as counting from './counting';
export * as productivity from './productivity';
export * as reid from './reid';
export * as dashboard from './dashboard';
