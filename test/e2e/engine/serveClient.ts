import assert from 'node:assert/strict';
import type { Readable, Writable } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import * as P from '../../../sidecar/src/protocol/methods';
import type { ForwardInfo } from '../../../sidecar/src/protocol/types';
import { waitFor, withTimeout } from '../../cluster/wait';
import type { TempHosts } from '../../helpers/sidecar';

/** A vscode-jsonrpc client on a sidecar's `serve --stdio` pipes, as the extension has. */
export interface RpcClient {
  connection: MessageConnection;
  /** Every forward state told by stateChanged notifications, in order. */
  notified: ForwardInfo[];
  closed: Promise<void>;
}

export function rpcClient(fromServer: Readable, toServer: Writable): RpcClient {
  const connection = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
  const client: RpcClient = { connection, notified: [], closed: new Promise((resolve) => connection.onClose(() => resolve())) };
  connection.onNotification(P.StateChanged.type, (p) => void client.notified.push(...p.forwards));
  connection.onError(() => undefined);
  connection.listen();
  return client;
}

export async function initialize(client: RpcClient): Promise<void> {
  const result = await withTimeout(client.connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} }), 15_000, 'initialize') as
    { serverInfo?: { name?: string } };
  assert.equal(result.serverInfo?.name, 'kube-forward');
  await client.connection.sendNotification('initialized', {});
}

/**
 * Forwards namespace demo over JSON-RPC and waits until the hosts file holds one block, owned by
 * `pid`, with entries in it. (Other suites may hold some 127.1.27.x ports at the same time: any
 * live forward makes the block, which is what the cleanup tests need.)
 */
export async function forwardDemoOverRpc(client: RpcClient, hosts: TempHosts, pid: number): Promise<void> {
  const state = await withTimeout(client.connection.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'demo' }), 30_000, 'forwardNamespace');
  assert.ok(state.namespaces.some((n) => n.namespace === 'demo' && n.context === 'admin'), 'demo is forwarded');
  await waitFor('an Active forward told by stateChanged', () => client.notified.some((f) => f.status === 'Active'), 30_000, 50);
  await waitFor(`one hosts block owned by pid ${pid} with entries`, () => {
    const blocks = hosts.blocks();
    return blocks.length === 1 && new RegExp(`^pid=${pid}(,|$)`).test(blocks[0]?.owner ?? '') && (blocks[0]?.entries.length ?? 0) > 0;
  }, 15_000, 50);
}
