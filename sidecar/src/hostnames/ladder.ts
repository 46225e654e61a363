import { hostnameProblem, kubefwdDashed, sanitizeContext } from './rfc1123';

export interface NameInput {
  service: string;
  namespace: string;
  context: string;
  /** Order of the context among those forwarded (0 = first): only the first gets short forms. */
  clusterIndex: number;
  /** Order of the namespace within its context (0 = first): only the first gets the bare name. */
  namespaceIndex: number;
  /** kubefwd -d: adds `svc.<domain>` (first context and namespace) and `svc.ns.svc.cluster.<domain>`. */
  domain?: string;
  /** A headless service's pod: names become `pod.svc`, `pod.svc.ns`, … */
  pod?: string;
  /** A headless service's first pod also answers to the service's own names. */
  answersForService?: boolean;
  /**
   * kubefwd (since 1.22.3) also writes a dashed copy of every dotted name (`svc-ns`,
   * `svc-ns-svc-cluster-local`, …) because its sanitizer replaces dots too. Off unless asked
   * for; dashed forms are always added for names whose context had to be sanitized.
   */
  kubefwdDashedAliases?: boolean;
}

export interface RejectedName {
  name: string;
  reason: string;
}

export interface NameSet {
  /** Valid, lowercase, unique, in kubefwd's order (shortest forms first). */
  names: string[];
  /** Names the ladder would produce but that are not valid host names, with why. */
  rejected: RejectedName[];
}

/** One rung: a name built from a context, so it can be rebuilt with the sanitized context. */
type Rung = (context: string) => string;

/**
 * kubefwd's ladder (fwdport AddHosts) for one base name (`svc`, or `pod.svc` for a headless pod):
 * - first context and first namespace: `base`, `base.<domain>`;
 * - another context, its first namespace: `base.ctx`;
 * - first context, any namespace: `base.ns`, `base.ns.svc`, `base.ns.svc.cluster.local`, `base.ns.svc.cluster.<domain>`;
 * - always: `base.ns.ctx`, `base.ns.svc.ctx`, `base.ns.svc.cluster.ctx`.
 */
function rungs(base: string, input: NameInput, domain: string | undefined): Rung[] {
  const ns = input.namespace;
  const fixed = (name: string): Rung => () => name;
  const out: Rung[] = [];
  if (input.clusterIndex === 0 && input.namespaceIndex === 0) {
    out.push(fixed(base));
    if (domain) out.push(fixed(`${base}.${domain}`));
  }
  if (input.clusterIndex > 0 && input.namespaceIndex === 0) out.push((ctx) => `${base}.${ctx}`);
  if (input.clusterIndex === 0) {
    out.push(fixed(`${base}.${ns}`), fixed(`${base}.${ns}.svc`), fixed(`${base}.${ns}.svc.cluster.local`));
    if (domain) out.push(fixed(`${base}.${ns}.svc.cluster.${domain}`));
  }
  out.push((ctx) => `${base}.${ns}.${ctx}`, (ctx) => `${base}.${ns}.svc.${ctx}`, (ctx) => `${base}.${ns}.svc.cluster.${ctx}`);
  return out;
}

/**
 * The host names of one forward. Pure: the same input always gives the same names. Names that
 * are not valid RFC 1123 host names are dropped and listed in `rejected`; when the context is to
 * blame (an EKS ARN, a GKE name with underscores) the sanitized context is used instead.
 */
export function hostnamesFor(input: NameInput): NameSet {
  const domain = input.domain?.trim().toLowerCase().replace(/^\.+|\.+$/g, '') || undefined;
  const rawContext = input.context.toLowerCase();
  const cleanContext = sanitizeContext(input.context);
  const bases = input.pod ? [`${input.pod}.${input.service}`] : [input.service];
  if (input.pod && input.answersForService) bases.push(input.service);

  const names: string[] = [];
  const rejected: RejectedName[] = [];
  const seen = new Set<string>();
  const reject = (name: string, reason: string): void => {
    if (!rejected.some((r) => r.name === name)) rejected.push({ name, reason });
  };
  const add = (name: string): void => {
    const problem = hostnameProblem(name);
    if (problem) reject(name, problem);
    else if (!seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  };
  // Aliases are extras: one that is not a valid name (a dashed label over 63 characters) is skipped quietly.
  const alias = (name: string): void => {
    if (hostnameProblem(name) === undefined && !seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  };

  for (const base of bases) {
    for (const rung of rungs(base.toLowerCase(), input, domain)) {
      const raw = rung(rawContext);
      if (hostnameProblem(raw) === undefined) {
        add(raw);
        if (input.kubefwdDashedAliases && raw.includes('.')) alias(kubefwdDashed(raw));
        continue;
      }
      const clean = cleanContext ? rung(cleanContext) : raw;
      if (clean !== raw) {
        // Report the raw form so a person sees why their context's names look different.
        reject(raw, hostnameProblem(raw) ?? 'is invalid');
        add(clean);
        // kubefwd users know these contexts by its fully dashed alias; keep it where it is valid.
        alias(kubefwdDashed(raw));
      } else {
        add(raw);
      }
    }
  }
  return { names, rejected };
}
