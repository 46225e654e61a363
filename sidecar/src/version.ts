/** Replaced at bundle time by esbuild's `define`; the source value is for tests. */
declare const KUBE_FORWARD_VERSION: string | undefined;
export const version: string = typeof KUBE_FORWARD_VERSION === 'string' ? KUBE_FORWARD_VERSION : '0.0.0-dev';
