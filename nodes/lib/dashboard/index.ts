/** What the Dashboard 2.0 widgets show, computed from the vision nodes' frames, events and reports. */
export * from './tiles';
export * from './timeline';
export * from './event-log';
export * from './floor';
