import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Who the sidecar acts for. Under sudo (or pkexec) the process is root but files in the user's
 * home must be read, and exec credential plugins run, as the invoking user (kubefwd #285: root-
 * owned files appearing in ~/.kube).
 */
export interface Identity {
  uid: number;
  gid: number;
  user: string;
  home: string;
  /** The process itself runs as root. */
  root: boolean;
  /** Root on behalf of another user (sudo/pkexec): drop to uid/gid for the user's files. */
  elevated: boolean;
}

interface PasswdEntry { user: string; uid: number; gid: number; home: string }

function passwdLookup(key: string | number): PasswdEntry | undefined {
  const parse = (line: string): PasswdEntry | undefined => {
    const f = line.split(':');
    if (f.length < 7) return undefined;
    return { user: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
  };
  // getent also answers for users from NSS (LDAP, sssd); /etc/passwd is the fallback.
  const getent = spawnSync('getent', ['passwd', String(key)], { encoding: 'utf8' });
  if (getent.status === 0 && getent.stdout) return parse(getent.stdout.trim().split('\n')[0] ?? '');
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const entry = parse(line);
      if (entry && (entry.user === key || entry.uid === key)) return entry;
    }
  } catch {
    /* no passwd file */
  }
  return undefined;
}

export function currentIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const root = uid === 0;
  const invokingUid = env.SUDO_UID ?? env.PKEXEC_UID;
  if (root && invokingUid && /^\d+$/.test(invokingUid) && Number(invokingUid) !== 0) {
    const entry = passwdLookup(env.SUDO_USER ?? Number(invokingUid)) ?? passwdLookup(Number(invokingUid));
    return {
      uid: Number(invokingUid),
      gid: env.SUDO_GID && /^\d+$/.test(env.SUDO_GID) ? Number(env.SUDO_GID) : entry?.gid ?? Number(invokingUid),
      user: env.SUDO_USER ?? entry?.user ?? invokingUid,
      home: entry?.home ?? `/home/${env.SUDO_USER ?? invokingUid}`,
      root,
      elevated: true,
    };
  }
  const info = os.userInfo();
  return { uid, gid, user: info.username, home: os.homedir(), root, elevated: false };
}

/** The environment a child run on the invoking user's behalf gets (HOME and USER of that user). */
export function userEnv(identity: Identity, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!identity.elevated) return { ...base };
  const env: NodeJS.ProcessEnv = { ...base, HOME: identity.home, USER: identity.user, LOGNAME: identity.user };
  for (const key of ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'SUDO_COMMAND', 'PKEXEC_UID']) delete env[key];
  return env;
}

/** spawn options that make a child run as the invoking user when the sidecar is elevated. */
export function asUserSpawnOptions(identity: Identity): { uid?: number; gid?: number } {
  return identity.elevated ? { uid: identity.uid, gid: identity.gid } : {};
}
