import * as path from 'node:path';
import type { Cluster, Context, User } from '@kubernetes/client-node';
// The module itself, not the package's index: the index loads every generated API client and
// model (see esbuild.mjs: the sidecar bundle keeps only what config.js uses).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import * as yaml from 'js-yaml';
import { KubeForwardError, messageOf } from '../errors';
import type { Identity } from '../privilege/identity';
import { readFilesAsUser } from '../privilege/readAsUser';
import type { ContextInfo } from '../protocol/types';
import { runExecPluginsAsUser } from './execAsUser';

/** A kubeconfig read from one or more files (KUBECONFIG semantics: the first file to set a value wins). */
export interface LoadedKubeconfig {
  files: string[];
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

/** The files kubectl would read: KUBECONFIG's list, else ~/.kube/config of the invoking user. */
export function defaultKubeconfigPaths(identity: Identity, env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p.trim() !== '');
  return fromEnv.length > 0 ? fromEnv : [path.join(identity.home, '.kube', 'config')];
}

function inline(file: string | undefined, data: string | undefined, contents: Map<string, Buffer>): string | undefined {
  if (data || !file) return data;
  return contents.get(file)?.toString('base64');
}

/**
 * Reads the kubeconfig files as the invoking user, resolves relative paths, and inlines every
 * referenced certificate and key, so nothing is read later with root's permissions.
 */
export function loadKubeconfig(files: string[], identity: Identity): LoadedKubeconfig {
  if (files.length === 0) throw new KubeForwardError('KUBECONFIG_NOT_FOUND', 'no kubeconfig file was given');
  const reads = readFilesAsUser(identity, files);
  const parsed: { file: string; kc: KubeConfig }[] = [];
  const missing: string[] = [];
  for (const file of files) {
    const read = reads.get(file);
    if (!read || !read.ok) {
      if (read?.code === 'ENOENT') {
        missing.push(file);
        continue;
      }
      throw new KubeForwardError('KUBECONFIG_UNREADABLE', `cannot read kubeconfig ${file}: ${read?.message ?? 'unknown error'}`);
    }
    const kc = new KubeConfig();
    try {
      kc.loadFromString(withTokenFilesInlined(read.data.toString('utf8'), path.dirname(path.resolve(file)), identity));
    } catch (error) {
      const detail = messageOf(error).includes('Cannot read properties of')
        ? 'it is empty or not a kubeconfig (expected clusters, users and contexts)'
        : messageOf(error).split('\n')[0];
      throw new KubeForwardError('KUBECONFIG_INVALID', `kubeconfig ${file} is malformed: ${detail}`);
    }
    kc.makePathsAbsolute(path.dirname(path.resolve(file)));
    parsed.push({ file, kc });
  }
  if (parsed.length === 0) {
    throw new KubeForwardError('KUBECONFIG_NOT_FOUND',
      `no kubeconfig found at ${missing.join(', ')}: set KUBECONFIG, pass --kubeconfig, or set kubeForward.kubeconfig`);
  }
  const loaded: LoadedKubeconfig = { files: parsed.map((p) => p.file), clusters: [], users: [], contexts: [], currentContext: '' };
  for (const { kc } of parsed) {
    for (const c of kc.getClusters()) if (!loaded.clusters.some((x) => x.name === c.name)) loaded.clusters.push(c);
    for (const u of kc.getUsers()) if (!loaded.users.some((x) => x.name === u.name)) loaded.users.push(u);
    for (const c of kc.getContexts()) if (!loaded.contexts.some((x) => x.name === c.name)) loaded.contexts.push(c);
    if (!loaded.currentContext && kc.getCurrentContext()) loaded.currentContext = kc.getCurrentContext();
  }
  const referenced = [
    ...loaded.clusters.map((c) => c.caFile),
    ...loaded.users.flatMap((u) => [u.certFile, u.keyFile]),
  ].filter((f): f is string => !!f);
  const contents = new Map<string, Buffer>();
  for (const [file, read] of readFilesAsUser(identity, [...new Set(referenced)])) {
    if (read.ok) contents.set(file, read.data);
  }
  // Unreadable referenced files are left as paths: the error then surfaces when that context is used.
  loaded.clusters = loaded.clusters.map((c) => {
    const caData = inline(c.caFile, c.caData, contents);
    return caData && contents.has(c.caFile ?? '') ? { ...c, caData, caFile: undefined } : c;
  });
  loaded.users = loaded.users.map((u) => {
    const certData = inline(u.certFile, u.certData, contents);
    const keyData = inline(u.keyFile, u.keyData, contents);
    return {
      ...u,
      ...(certData && contents.has(u.certFile ?? '') ? { certData, certFile: undefined } : {}),
      ...(keyData && contents.has(u.keyFile ?? '') ? { keyData, keyFile: undefined } : {}),
    };
  });
  return loaded;
}

/**
 * client-node reads a user's `token-file` while parsing, in this (possibly root) process: read
 * those files as the invoking user first and put their contents in `token`.
 */
function withTokenFilesInlined(text: string, dir: string, identity: Identity): string {
  const doc: unknown = yaml.load(text);
  if (typeof doc !== 'object' || doc === null) return text;
  const users = (doc as { users?: unknown }).users;
  if (!Array.isArray(users)) return text;
  const holders = users
    .map((u: unknown) => (typeof u === 'object' && u !== null ? (u as { user?: Record<string, unknown> }).user : undefined))
    .filter((u): u is Record<string, unknown> => typeof u === 'object' && u !== null && typeof u['token-file'] === 'string');
  if (holders.length === 0) return text;
  const files = holders.map((u) => path.resolve(dir, String(u['token-file'])));
  const reads = readFilesAsUser(identity, files);
  holders.forEach((u, i) => {
    const read = reads.get(files[i] ?? '');
    if (!read?.ok) throw new KubeForwardError('KUBECONFIG_UNREADABLE', `cannot read token-file ${files[i]}: ${read?.message ?? 'unreadable'}`);
    delete u['token-file'];
    u.token = read.data.toString('utf8').trim();
  });
  return yaml.dump(doc);
}

/** The context to use: `name`, or the current one; a clear error listing what exists otherwise. */
export function resolveContext(loaded: LoadedKubeconfig, name?: string): Context {
  const wanted = name || loaded.currentContext;
  const available = loaded.contexts.map((c) => c.name);
  if (!wanted) {
    throw new KubeForwardError('UNKNOWN_CONTEXT',
      `no context given and the kubeconfig has no current-context; available: ${available.join(', ') || '(none)'}`);
  }
  const context = loaded.contexts.find((c) => c.name === wanted);
  if (!context) {
    throw new KubeForwardError('UNKNOWN_CONTEXT',
      `context "${wanted}" is not in the kubeconfig (${loaded.files.join(', ')}); available: ${available.join(', ') || '(none)'}`);
  }
  return context;
}

/** A KubeConfig holding only `context`, whose exec plugins run as the invoking user. */
export function kubeConfigFor(loaded: LoadedKubeconfig, contextName: string | undefined, identity: Identity): KubeConfig {
  const context = resolveContext(loaded, contextName);
  const cluster = loaded.clusters.find((c) => c.name === context.cluster);
  if (!cluster) throw new KubeForwardError('KUBECONFIG_INVALID', `context "${context.name}" names cluster "${context.cluster}", which is not in the kubeconfig`);
  const user = loaded.users.find((u) => u.name === context.user) ?? { name: context.user };
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [user], contexts: [context], currentContext: context.name });
  runExecPluginsAsUser(kc, identity);
  return kc;
}

export function contextInfos(loaded: LoadedKubeconfig): ContextInfo[] {
  return loaded.contexts.map((c) => ({
    name: c.name,
    cluster: c.cluster,
    server: loaded.clusters.find((x) => x.name === c.cluster)?.server ?? '',
    user: c.user,
    ...(c.namespace ? { namespace: c.namespace } : {}),
    current: c.name === loaded.currentContext,
  }));
}
