export * from './authenticator';
export * from './deny-by-default.guard';
export * from './public.decorator';
export * from './security.module';
