package main

import (
	"context"
	"fmt"
	"log"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

const (
	kubeletVersion    = "v1.36.3"
	leaseNamespace    = "kube-node-lease"
	leaseDuration     = 40 * time.Second
	leaseRenewEvery   = 10 * time.Second
	statusUpdateEvery = 20 * time.Second
	// taintNotReady is added to new Nodes by the TaintNodesByCondition
	// admission plugin; the node-lifecycle controller, which would remove it,
	// does not run in the test cluster.
	taintNotReady = "node.kubernetes.io/not-ready"
)

// nodeAgent registers the Node and keeps its Ready heartbeat and Lease fresh.
type nodeAgent struct {
	client  kubernetes.Interface
	name    string
	port    int32
	podCIDR string
}

func newNodeAgent(client kubernetes.Interface, name string, port int32, podCIDR string) *nodeAgent {
	return &nodeAgent{client: client, name: name, port: port, podCIDR: podCIDR}
}

// register creates or updates the Node, marks it Ready and writes the Lease.
// It retries until ctx ends, since the API server may still be starting.
func (n *nodeAgent) register(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := n.registerOnce(ctx)
		if err == nil {
			log.Printf("node %s registered (kubelet port %d)", n.name, n.port)
			return nil
		}
		if attempt%10 == 0 {
			log.Printf("registering node %s: %v (retrying)", n.name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("registering node: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (n *nodeAgent) registerOnce(ctx context.Context) error {
	nodes := n.client.CoreV1().Nodes()
	_, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = nodes.Create(ctx, n.newNode(), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !n.fixSpec(node) {
			return nil
		}
		_, err = nodes.Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("update node spec: %w", err)
	}
	if err := n.updateStatus(ctx); err != nil {
		return err
	}
	return n.renewLease(ctx)
}

func (n *nodeAgent) newNode() *corev1.Node {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name}}
	n.fixSpec(node)
	return node
}

// fixSpec sets our labels, the pod CIDR (only settable once) and drops the
// not-ready taint. It reports whether anything changed.
func (n *nodeAgent) fixSpec(node *corev1.Node) bool {
	changed := false
	want := map[string]string{
		"kubernetes.io/hostname": n.name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"kubeforward.test/fake":  "true",
	}
	if node.Labels == nil {
		node.Labels = map[string]string{}
	}
	for k, v := range want {
		if node.Labels[k] != v {
			node.Labels[k] = v
			changed = true
		}
	}
	if node.Spec.PodCIDR == "" && len(node.Spec.PodCIDRs) == 0 {
		node.Spec.PodCIDR = n.podCIDR
		node.Spec.PodCIDRs = []string{n.podCIDR}
		changed = true
	}
	taints := node.Spec.Taints[:0:0]
	for _, t := range node.Spec.Taints {
		if t.Key == taintNotReady {
			changed = true
			continue
		}
		taints = append(taints, t)
	}
	node.Spec.Taints = taints
	if node.Spec.Unschedulable {
		node.Spec.Unschedulable = false
		changed = true
	}
	return changed
}

// updateStatus writes the whole node status, refreshing every condition's
// heartbeat. Transition times are kept while a condition's status is stable.
func (n *nodeAgent) updateStatus(ctx context.Context) error {
	nodes := n.client.CoreV1().Nodes()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.fillStatus(node, time.Now())
		_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

func (n *nodeAgent) fillStatus(node *corev1.Node, now time.Time) {
	t := metav1.NewTime(now.Truncate(time.Second))
	old := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range node.Status.Conditions {
		old[c.Type] = c
	}
	cond := func(typ corev1.NodeConditionType, status corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: typ, Status: status, Reason: reason, Message: msg,
			LastHeartbeatTime: t, LastTransitionTime: t}
		if prev, ok := old[typ]; ok && prev.Status == status && !prev.LastTransitionTime.IsZero() {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		return c
	}
	node.Status.Conditions = []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "fake kubelet is posting ready status"),
	}
	res := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("64"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourcePods:             resource.MustParse("2000"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
	node.Status.Capacity = res
	node.Status.Allocatable = res.DeepCopy()
	node.Status.Phase = ""
	// The Hostname address is the loopback IP too: the API server prefers
	// Hostname when picking the kubelet address, and our listener is 127.0.0.1.
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
		{Type: corev1.NodeHostName, Address: "127.0.0.1"},
	}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = n.port
	node.Status.NodeInfo = corev1.NodeSystemInfo{
		MachineID:               "fakenode-" + n.name,
		SystemUUID:              "fakenode-" + n.name,
		BootID:                  "fakenode-" + n.name,
		KernelVersion:           "6.0.0-fake",
		OSImage:                 "Kube Forward fake node",
		ContainerRuntimeVersion: "fake://1.0.0",
		KubeletVersion:          kubeletVersion,
		OperatingSystem:         "linux",
		Architecture:            "amd64",
	}
	// status.declaredFeatures stays empty on purpose: the API server then
	// translates WebSocket port-forward requests to SPDY before reaching us.
}

func (n *nodeAgent) renewLease(ctx context.Context) error {
	leases := n.client.CoordinationV1().Leases(leaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: leaseNamespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(n.name),
				LeaseDurationSeconds: ptr.To(int32(leaseDuration / time.Second)),
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}
		n.setLeaseOwner(ctx, lease)
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil // renewed next tick
		}
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.HolderIdentity = ptr.To(n.name)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(leaseDuration / time.Second))
	lease.Spec.RenewTime = &now
	if len(lease.OwnerReferences) == 0 {
		n.setLeaseOwner(ctx, lease)
	}
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// setLeaseOwner makes the Node own its Lease, as the kubelet does, so the
// Lease is garbage-collected with the Node.
func (n *nodeAgent) setLeaseOwner(ctx context.Context, lease *coordinationv1.Lease) {
	node, err := n.client.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
	if err != nil {
		return
	}
	lease.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
	}}
}

// heartbeat renews the Lease every 10 s and the node status every 20 s until
// ctx ends.
func (n *nodeAgent) heartbeat(ctx context.Context) {
	tick := time.NewTicker(leaseRenewEvery)
	defer tick.Stop()
	lastStatus := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := n.renewLease(ctx); err != nil && ctx.Err() == nil {
			log.Printf("lease renew: %v", err)
		}
		if time.Since(lastStatus) >= statusUpdateEvery-time.Second {
			err := n.updateStatus(ctx)
			if apierrors.IsNotFound(err) {
				log.Printf("node %s was deleted: registering again", n.name)
				err = n.registerOnce(ctx)
			}
			if err != nil && ctx.Err() == nil {
				log.Printf("node status heartbeat: %v", err)
				continue
			}
			lastStatus = time.Now()
		}
	}
}
