/**
 * RFC 1123 host names as the hosts file needs them. Names are written by a root process, so
 * anything that is not a plain lowercase label chain is refused rather than repaired silently.
 */

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why `name` is not a valid lowercase RFC 1123 host name, or undefined when it is. */
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  if (name !== name.toLowerCase()) return 'has uppercase letters';
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0) return 'has an empty label';
    if (label.length > 63) return `has a label longer than 63 characters ("${label.slice(0, 20)}…")`;
    if (!LABEL.test(label)) return `has a label "${label}" that is not letters, digits and inner hyphens`;
  }
  // A numeric last label makes the name look like (part of) an IP address to resolvers.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return 'ends with an all-numeric label';
  return undefined;
}

export function isValidHostname(name: string): boolean {
  return hostnameProblem(name) === undefined;
}

/**
 * A context name as a label chain: kubeconfig contexts are free text (EKS
 * `arn:aws:eks:us-east-1:123:cluster/prod`, GKE `gke_project_zone_name`, OpenShift
 * `ns/api-host:6443/user`). Every character outside [a-z0-9.-] becomes `-` and each label is
 * trimmed of hyphens, so `arn:aws:eks:us-east-1:123:cluster/prod` → `arn-aws-eks-us-east-1-123-cluster-prod`.
 */
export function sanitizeContext(context: string): string {
  return context
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .filter((label) => label.length > 0)
    .join('.');
}

/**
 * kubefwd's own sanitized alias (fwdport sanitizeHost): every character outside [a-zA-Z0-9-],
 * dots included, becomes `-`, then hyphens are trimmed from both ends. `web.demo` → `web-demo`.
 */
export function kubefwdDashed(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
}
