import * as os from 'node:os';
import * as path from 'node:path';
import type { ElevationSetting } from './sidecar/elevation';

/** One entry of `kubeForward.forwards`. */
export interface WorkspaceForward {
  context?: string;
  namespace: string;
  selector?: string;
  services?: string[];
  autoStart: boolean;
}

export interface Settings {
  kubeconfig?: string;
  forwards: WorkspaceForward[];
  portMappings: string[];
  reservations: string[];
  domain?: string;
  autoReconnect: boolean;
  elevation: ElevationSetting;
}

/** Where a setting's value came from, as VS Code's `inspect` reports it. */
export interface RawSettings {
  get(key: string): unknown;
  /** The user-level (global) value only: machine settings are never taken from a workspace. */
  getGlobal(key: string): unknown;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAPPING = /^(([a-z0-9.-]+):)?\d{1,5}:\d{1,5}$/;
const RESERVATION = /^[a-z0-9.-]+:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Reads and validates the settings. Invalid values are reported (with the setting's name) and
 * left out; everything valid still applies.
 */
export function readSettings(raw: RawSettings, workspaceFolder?: string): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const bad = (key: string, why: string) => problems.push(`kubeForward.${key}: ${why}`);
  const settings: Settings = { forwards: [], portMappings: [], reservations: [], autoReconnect: true, elevation: 'auto' };

  const kubeconfig = raw.get('kubeconfig');
  if (typeof kubeconfig === 'string' && kubeconfig.trim()) {
    let p = kubeconfig.trim().replace(/^~(?=$|\/)/, os.homedir());
    if (workspaceFolder) p = p.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
    settings.kubeconfig = path.isAbsolute(p) ? p : path.resolve(workspaceFolder ?? os.homedir(), p);
  } else if (kubeconfig !== undefined && kubeconfig !== '' && typeof kubeconfig !== 'string') {
    bad('kubeconfig', 'must be a path (string)');
  }

  const forwards = raw.get('forwards');
  if (Array.isArray(forwards)) {
    forwards.forEach((entry: unknown, i) => {
      const where = `forwards[${i}]`;
      if (typeof entry !== 'object' || entry === null) return bad(where, 'must be an object like {"namespace": "shop"}');
      const e = entry as Record<string, unknown>;
      if (typeof e.namespace !== 'string' || !NAMESPACE.test(e.namespace)) return bad(`${where}.namespace`, `"${String(e.namespace)}" is not a valid namespace name`);
      if (e.context !== undefined && typeof e.context !== 'string') return bad(`${where}.context`, 'must be a string');
      if (e.selector !== undefined && typeof e.selector !== 'string') return bad(`${where}.selector`, 'must be a label selector string like "app=web"');
      if (e.services !== undefined && !(Array.isArray(e.services) && e.services.every((s) => typeof s === 'string'))) {
        return bad(`${where}.services`, 'must be a list of service names');
      }
      if (e.autoStart !== undefined && typeof e.autoStart !== 'boolean') return bad(`${where}.autoStart`, 'must be true or false');
      settings.forwards.push({
        namespace: e.namespace,
        ...(typeof e.context === 'string' && e.context ? { context: e.context } : {}),
        ...(typeof e.selector === 'string' && e.selector ? { selector: e.selector } : {}),
        ...(Array.isArray(e.services) ? { services: e.services as string[] } : {}),
        autoStart: e.autoStart === true,
      });
    });
  } else if (forwards !== undefined) {
    bad('forwards', 'must be a list');
  }

  const list = (key: 'portMappings' | 'reservations', pattern: RegExp, example: string) => {
    const value = raw.get(key);
    if (value === undefined) return;
    if (!Array.isArray(value)) return bad(key, `must be a list like ["${example}"]`);
    for (const item of value) {
      if (typeof item === 'string' && pattern.test(item)) settings[key].push(item);
      else bad(key, `"${String(item)}" is not like "${example}"`);
    }
  };
  list('portMappings', MAPPING, '80:8080');
  list('reservations', RESERVATION, 'web.demo:127.1.27.50');

  const domain = raw.get('domain');
  if (typeof domain === 'string' && domain) {
    if (DOMAIN.test(domain)) settings.domain = domain;
    else bad('domain', `"${domain}" is not a valid domain name`);
  }
  const reconnect = raw.get('autoReconnect');
  if (typeof reconnect === 'boolean') settings.autoReconnect = reconnect;
  else if (reconnect !== undefined) bad('autoReconnect', 'must be true or false');

  const elevation = raw.getGlobal('elevation');
  if (elevation === 'auto' || elevation === 'sudo' || elevation === 'pkexec' || elevation === 'none') settings.elevation = elevation;
  else if (elevation !== undefined) bad('elevation', 'must be one of auto, sudo, pkexec, none');
  return { settings, problems };
}
