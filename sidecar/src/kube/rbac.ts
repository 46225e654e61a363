import type { KubeConfig, V1SelfSubjectAccessReview } from '@kubernetes/client-node';
import { KubeForwardError } from '../errors';
import { apiError } from './apiError';
import { kubeJson } from './rest';

interface Check { verb: string; resource: string; subresource?: string; group?: string }

/** What forwarding a namespace needs (DESIGN.md "RBAC"). */
const needed: Check[] = [
  { verb: 'list', resource: 'services' },
  { verb: 'watch', resource: 'services' },
  { verb: 'list', resource: 'pods' },
  { verb: 'watch', resource: 'pods' },
  { verb: 'get', resource: 'pods', subresource: 'portforward' },
  { verb: 'create', resource: 'pods', subresource: 'portforward' },
];

const describe = (c: Check) => `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}`;

/**
 * Asks the API server (SelfSubjectAccessReview) whether this user may forward `namespace`;
 * resolves when everything is allowed, rejects with one RBAC_DENIED error naming all that is not.
 */
export async function checkNamespaceAccess(kc: KubeConfig, context: string, namespace: string): Promise<void> {
  const results = await Promise.all(needed.map(async (check) => {
    try {
      const review = await kubeJson<V1SelfSubjectAccessReview>(kc, {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { namespace, verb: check.verb, resource: check.resource, subresource: check.subresource, group: check.group ?? '' } },
        },
      });
      return { check, allowed: review.status?.allowed === true };
    } catch (error) {
      throw apiError(error, kc, `checking access to namespace ${namespace}`);
    }
  }));
  const denied = results.filter((r) => !r.allowed).map((r) => describe(r.check));
  if (denied.length > 0) {
    const user = kc.getCurrentUser()?.name ?? 'this user';
    throw new KubeForwardError('RBAC_DENIED',
      `context "${context}": ${user} may not ${denied.join(', ')} in namespace "${namespace}" — ask a cluster admin for a Role with those verbs, or pick another namespace`);
  }
}
