/**
 * Every error the engine reports to a person carries a code (machine-readable, e.g. RBAC_DENIED,
 * PORT_IN_USE, IP_EXHAUSTED) and a message that says what to do about it.
 */
export class KubeForwardError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'KubeForwardError';
  }
}

/** The message of anything thrown, for reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The code of a KubeForwardError, or `fallback` for anything else. */
export function codeOf(error: unknown, fallback = 'INTERNAL'): string {
  return error instanceof KubeForwardError ? error.code : fallback;
}
