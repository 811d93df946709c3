/** Counting: lines, zones and dwell that do not double count (issue 5). */
export * from './config';
export * from './counter';
export * from './shift';
