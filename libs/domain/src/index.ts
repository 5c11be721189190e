// The pure domain: commands, events, deciders and policies. No I/O and no framework code.
export * from './events';
export * from './decider';
export * from './keyed-map';
export * from './consent';
export * from './directory';
export * from './emergency';
export * from './audit';
export * from './chain-facts';
export * from './drift';
export * from './consultation';
export * from './messaging';
export * from './triage';
export * from './records';
export * from './uploads';
export * from './signalling';
