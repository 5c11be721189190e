// The pure domain (commands, events, deciders, policies) arrives with the event-sourced core.
// No I/O and no framework code belong here.
export {};
