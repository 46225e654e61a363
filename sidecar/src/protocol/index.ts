export * from './types';
export * from './methods';
