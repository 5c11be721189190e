// The pure domain: commands, events, deciders and policies. No I/O and no framework code.
export * from './events';
