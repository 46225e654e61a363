import { readFile } from 'node:fs/promises';
import * as yaml from 'js-yaml';
import { KubeForwardError, messageOf } from '../errors';
import { loopbackIp, mergeReservations, reservation, type Reservation } from '../ipalloc/reservation';

/** A loaded fwdconf (kubefwd -z): reservations, and the first address for automatic allocation. */
export interface FwdConf {
  file: string;
  baseIp?: string;
  reservations: Reservation[];
}

/** Reads a file's bytes; the root sidecar passes one that reads with the invoking user's rights. */
export type ReadFile = (file: string) => Promise<string | Buffer> | string | Buffer;

const TOP_KEYS = ['baseUnreservedIP', 'baseIP', 'serviceConfigurations', 'reservations'];
const ENTRY_KEYS = ['name', 'service', 'namespace', 'context', 'ip'];

export async function loadFwdConf(file: string, read: ReadFile = (f) => readFile(f)): Promise<FwdConf> {
  let data: string | Buffer;
  try {
    data = await read(file);
  } catch (error) {
    throw new KubeForwardError('FWDCONF_UNREADABLE', `cannot read fwdconf ${file}: ${messageOf(error)}; check the path given to -z/--fwd-conf`);
  }
  return parseFwdConf(typeof data === 'string' ? data : data.toString('utf8'), file);
}

/**
 * Accepts both spellings kubefwd has: its parser's `baseUnreservedIP` + `serviceConfigurations:
 * [{name, ip}]` (example.fwdconf.yml), and its docs' `baseIP` + `reservations: [{service,
 * namespace, ip}]` (which kubefwd itself silently ignores). Unknown keys are errors, so a typo
 * does not quietly lose a reservation.
 */
export function parseFwdConf(text: string, file: string): FwdConf {
  const bad = (where: string, message: string): KubeForwardError =>
    new KubeForwardError('BAD_FWDCONF', `fwdconf ${file}: ${where ? `${where}: ` : ''}${message}`);
  let docs: unknown[];
  try {
    // loadAll, because js-yaml 5's load() refuses a file holding only comments.
    docs = yaml.loadAll(text, { filename: file });
  } catch (error) {
    const mark = error instanceof yaml.YAMLException ? error.mark : undefined;
    const reason = error instanceof yaml.YAMLException ? error.reason : messageOf(error);
    throw bad(mark ? `line ${mark.line + 1}, column ${mark.column + 1}` : '', `not valid YAML (${reason})`);
  }
  if (docs.length > 1) throw bad('', `holds ${docs.length} YAML documents; keep one`);
  const doc = docs[0];
  if (doc === null || doc === undefined) return { file, reservations: [] };
  if (!isRecord(doc)) throw bad('', 'must be a mapping with serviceConfigurations or reservations');
  unknownKey(doc, TOP_KEYS, '', bad);

  const bases = (['baseUnreservedIP', 'baseIP'] as const).filter((k) => doc[k] !== undefined && doc[k] !== null);
  let baseIp: string | undefined;
  for (const key of bases) {
    const ip = validated(key, () => loopbackIp(scalar(doc[key], key, bad), 'base IP', 'BAD_FWDCONF'), bad);
    if (baseIp !== undefined && ip !== baseIp) throw bad(key, `${ip} differs from baseUnreservedIP ${baseIp}; keep one`);
    baseIp = ip;
  }

  const reservations: Reservation[] = [];
  for (const listKey of ['serviceConfigurations', 'reservations'] as const) {
    const list = doc[listKey];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw bad(listKey, 'must be a list of entries with a name (or service and namespace) and an ip');
    list.forEach((entry: unknown, i) => reservations.push(entryOf(entry, `${listKey}[${i}]`, file, bad)));
  }
  validated('', () => mergeReservations(reservations), bad);
  return { file, ...(baseIp !== undefined ? { baseIp } : {}), reservations };
}

type Bad = (where: string, message: string) => KubeForwardError;

function entryOf(entry: unknown, where: string, file: string, bad: Bad): Reservation {
  if (!isRecord(entry)) throw bad(where, 'must be a mapping with a name (or service and namespace) and an ip');
  unknownKey(entry, ENTRY_KEYS, where, bad);
  const field = (key: string): string | undefined =>
    entry[key] === undefined || entry[key] === null ? undefined : scalar(entry[key], `${where}.${key}`, bad);
  const [name, service, namespace, context, ip] = ENTRY_KEYS.map(field);
  if (ip === undefined) throw bad(where, 'has no ip');
  if (name !== undefined && service !== undefined) throw bad(where, 'has both name and service; use one');
  if (name === undefined && service === undefined) throw bad(where, 'has neither name nor service');
  if (name === undefined && context !== undefined && namespace === undefined) throw bad(where, 'has a context but no namespace');
  if (name !== undefined && (namespace !== undefined || context !== undefined)) {
    throw bad(where, 'name already says which forward it is; namespace and context go with service');
  }
  const full = name ?? [service, namespace, context].filter((p) => p !== undefined).join('.');
  return validated(`${where}.ip`, () => reservation(full, ip, `${file} ${where}`), bad);
}

function unknownKey(record: Record<string, unknown>, allowed: readonly string[], where: string, bad: Bad): void {
  const extra = Object.keys(record).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw bad(where, `unknown key "${extra}" (accepted: ${allowed.join(', ')})`);
}

/** Scalars only; numbers are taken as written (`name: 123`), nested values are errors. */
function scalar(value: unknown, where: string, bad: Bad): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw bad(where, 'must be a string');
}

/** Runs a validation and re-labels its error as this file's, keeping the message. */
function validated<T>(where: string, run: () => T, bad: Bad): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof KubeForwardError && error.code === 'BAD_FWDCONF' && error.message.startsWith('fwdconf ')) throw error;
    throw bad(where, messageOf(error));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
