/** Productivity: working / idle / absent states of workstations and workers, and the KPIs. */
export * from './stations';
export * from './state-machine';
export * from './timeline';
export * from './motion';
export * from './shift';
export * from './health';
export * from './kpi';
export * from './options';
export * from './engine';
export * from './replay';
