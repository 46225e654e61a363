import type { ForwardInfo } from '../../../sidecar/src/protocol/types';

export interface StatusSummary {
  text: string;
  tooltip: string;
  visible: boolean;
  /** 'error' when something failed, 'warning' while reconnecting. */
  severity: 'ok' | 'warning' | 'error';
}

/**
 * The ONE mapping from forward states to the status bar item (rust-analyzer's
 * updateStatusBarItem): `$(plug) 12 · $(sync~spin) 1 · $(error) 1`.
 */
export function summarize(forwards: readonly ForwardInfo[], opts: { viewOpened: boolean; sidecar: 'starting' | 'running' | 'stopped' | 'failed'; sidecarError?: string }): StatusSummary {
  if (opts.sidecar === 'failed') {
    return { text: '$(error) Kube Forward', tooltip: `The sidecar stopped: ${opts.sidecarError ?? 'unknown error'}. Click to see traffic and logs.`, visible: true, severity: 'error' };
  }
  const live = forwards.filter((f) => f.status !== 'Stopped' && f.status !== 'Skipped');
  const active = live.filter((f) => f.status === 'Active').length;
  const pending = live.filter((f) => f.status === 'Reconnecting' || f.status === 'Starting');
  const failed = live.filter((f) => f.status === 'Failed');
  const parts = [`$(plug) ${active}`];
  if (pending.length > 0) parts.push(`$(sync~spin) ${pending.length}`);
  if (failed.length > 0) parts.push(`$(error) ${failed.length}`);
  const problems = [...failed, ...pending].slice(0, 10).map((f) => `${f.status === 'Failed' ? '✗' : '↻'} ${f.service}.${f.namespace}: ${f.reason ?? f.status}`);
  const tooltip = [
    `Kube Forward: ${active} active, ${pending.length} reconnecting or starting, ${failed.length} failed`,
    ...problems,
    ...(failed.length + pending.length > 10 ? [`… and ${failed.length + pending.length - 10} more`] : []),
    'Click to show traffic.',
  ].join('\n');
  return {
    text: parts.join(' · '),
    tooltip,
    visible: live.length > 0 || opts.viewOpened,
    severity: failed.length > 0 ? 'error' : pending.length > 0 ? 'warning' : 'ok',
  };
}
