export * from './categories';
export * from './typed-data';
export type { HealthRecordAccessControl } from './typechain';
export { HealthRecordAccessControl__factory } from './typechain';
export * from './provider';
export * from './mirror';
export * from './audit-merkle';
