package main

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// newFakeClient is a fake clientset whose pods/binding subresource sets
// spec.nodeName, as the API server does.
func newFakeClient(objs ...runtime.Object) *fake.Clientset {
	cs := fake.NewClientset(objs...)
	podsGVR := corev1.SchemeGroupVersion.WithResource("pods")
	cs.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := action.(k8stesting.CreateAction).GetObject().(*corev1.Binding)
		obj, err := cs.Tracker().Get(podsGVR, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*corev1.Pod).DeepCopy()
		if pod.Spec.NodeName != "" {
			return true, nil, apierrors.NewConflict(corev1.Resource("pods/binding"), b.Name, nil)
		}
		pod.Spec.NodeName = b.Target.Name
		return true, b, cs.Tracker().Update(podsGVR, pod, b.Namespace)
	})
	return cs
}

func TestNodeRegistration(t *testing.T) {
	ctx := context.Background()
	old := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "fake-node-1"}, Spec: corev1.NodeSpec{
		Taints: []corev1.Taint{{Key: taintNotReady, Effect: corev1.TaintEffectNoSchedule}, {Key: "keep", Effect: corev1.TaintEffectNoSchedule}},
	}}
	cs := newFakeClient(old)
	n := newNodeAgent(cs, "fake-node-1", 10250, "10.244.0.0/16")
	if err := n.registerOnce(ctx); err != nil {
		t.Fatal(err)
	}
	node, err := cs.CoreV1().Nodes().Get(ctx, "fake-node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(node.Spec.Taints) != 1 || node.Spec.Taints[0].Key != "keep" {
		t.Errorf("taints %v", node.Spec.Taints)
	}
	if node.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 || node.Status.NodeInfo.KubeletVersion != "v1.36.3" {
		t.Errorf("status %+v", node.Status)
	}
	ready := false
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	if !ready || node.Status.Allocatable.Pods().String() != "2k" && node.Status.Allocatable.Pods().Value() != 2000 {
		t.Errorf("ready=%t allocatable=%v", ready, node.Status.Allocatable)
	}
	if len(node.Status.DeclaredFeatures) != 0 {
		t.Errorf("declaredFeatures %v", node.Status.DeclaredFeatures)
	}
	if _, err := cs.CoordinationV1().Leases(leaseNamespace).Get(ctx, "fake-node-1", metav1.GetOptions{}); err != nil {
		t.Errorf("lease: %v", err)
	}
	// Registering again (restart) works and keeps one node.
	if err := n.registerOnce(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPodLifecycle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := newFakeClient()
	ips, _ := newIPAllocator("10.244.0.0/16")
	reg := newStreamRegistry()
	c := newPodController(cs, "fake-node-1", ips, reg)
	if err := c.start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.stop()

	create := func(name string, ann map[string]string) *corev1.Pod {
		pod := testPod(name, ann)
		pod.Spec.NodeName = ""
		pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "side", Image: "registry.k8s.io/pause:3.10"})
		p, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	get := func(name string) *corev1.Pod {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return p
	}
	cond := func(p *corev1.Pod, typ corev1.PodConditionType) corev1.ConditionStatus {
		for _, c := range p.Status.Conditions {
			if c.Type == typ {
				return c.Status
			}
		}
		return ""
	}

	create("web", nil)
	create("job", map[string]string{annPhase: "Succeeded"})
	create("evicted", map[string]string{annPhase: "Failed", annReason: "Evicted", annMessage: "low on memory"})
	create("slow", map[string]string{annReady: "false"})
	gated := testPod("gated", nil)
	gated.Spec.NodeName = ""
	gated.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "wait"}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, gated, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "web Running and Ready", func() bool {
		p := get("web")
		return p.Spec.NodeName == "fake-node-1" && p.Status.Phase == corev1.PodRunning && cond(p, corev1.PodReady) == corev1.ConditionTrue
	})
	waitFor(t, "job Succeeded", func() bool { return get("job").Status.Phase == corev1.PodSucceeded })
	waitFor(t, "evicted Failed", func() bool { return get("evicted").Status.Phase == corev1.PodFailed })
	waitFor(t, "slow Running", func() bool { return get("slow").Status.Phase == corev1.PodRunning })

	web := get("web")
	if web.Status.HostIP != "127.0.0.1" || len(web.Status.ContainerStatuses) != 2 || web.Status.StartTime == nil {
		t.Fatalf("web status %+v", web.Status)
	}
	for _, cs := range web.Status.ContainerStatuses {
		if !cs.Ready || cs.State.Running == nil || cs.Started == nil || !*cs.Started || cs.ContainerID == "" || cs.ImageID == "" {
			t.Errorf("web container %+v", cs)
		}
	}
	if ic := web.Status.InitContainerStatuses; len(ic) != 1 || ic[0].State.Terminated == nil || ic[0].State.Terminated.Reason != "Completed" {
		t.Errorf("init containers %+v", ic)
	}
	for _, typ := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		if cond(web, typ) != corev1.ConditionTrue {
			t.Errorf("web condition %s = %s", typ, cond(web, typ))
		}
	}

	job := get("job")
	if cond(job, corev1.PodReady) != corev1.ConditionFalse {
		t.Errorf("job Ready = %s", cond(job, corev1.PodReady))
	}
	for _, cs := range job.Status.ContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != "Completed" || cs.Ready {
			t.Errorf("job container %+v", cs)
		}
	}
	ev := get("evicted")
	if ev.Status.Reason != "Evicted" || ev.Status.Message != "low on memory" || cond(ev, corev1.PodReady) != corev1.ConditionFalse {
		t.Errorf("evicted status %+v", ev.Status)
	}
	slow := get("slow")
	if cond(slow, corev1.PodReady) != corev1.ConditionFalse || cond(slow, corev1.ContainersReady) != corev1.ConditionFalse || slow.Status.ContainerStatuses[0].Ready {
		t.Errorf("slow status %+v", slow.Status)
	}
	if g := get("gated"); g.Spec.NodeName != "" {
		t.Errorf("gated pod was bound")
	}

	// Pod IPs: unique, in the CIDR.
	seen := map[string]string{}
	for _, name := range []string{"web", "job", "evicted", "slow"} {
		ip := get(name).Status.PodIP
		if a, err := netip.ParseAddr(ip); err != nil || !netip.MustParsePrefix("10.244.0.0/16").Contains(a) {
			t.Errorf("%s pod IP %q", name, ip)
		}
		if other, dup := seen[ip]; dup {
			t.Errorf("%s and %s share %s", name, other, ip)
		}
		seen[ip] = name
	}

	// No update loop: the status settles.
	countStatusUpdates := func() int {
		n := 0
		for _, a := range cs.Actions() {
			if a.GetVerb() == "update" && a.GetSubresource() == "status" {
				n++
			}
		}
		return n
	}
	before := countStatusUpdates()
	time.Sleep(300 * time.Millisecond)
	if after := countStatusUpdates(); after != before {
		t.Errorf("status kept being updated: %d -> %d", before, after)
	}

	// Readiness follows the annotation.
	slow.Annotations[annReady] = "true"
	if _, err := cs.CoreV1().Pods("default").Update(ctx, slow, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "slow Ready", func() bool { return cond(get("slow"), corev1.PodReady) == corev1.ConditionTrue })

	// Deletion closes the pod's streams, then deletes with grace 0 and a UID
	// precondition. (The fake API server has no graceful deletion, so set
	// the deletion timestamp by hand.)
	var closed atomic.Int32
	if _, ok := reg.add(web.UID, func() { closed.Add(1) }); !ok {
		t.Fatal("registry refused a stream")
	}
	web = get("web")
	now := metav1.Now()
	web.DeletionTimestamp = &now
	web.DeletionGracePeriodSeconds = ptrInt64(30)
	if _, err := cs.CoreV1().Pods("default").Update(ctx, web, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web deleted", func() bool { return get("web") == nil })
	if closed.Load() != 1 {
		t.Errorf("stream closed %d times before deletion, want 1", closed.Load())
	}
	var del k8stesting.DeleteActionImpl
	for _, a := range cs.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && d.Name == "web" {
			del = d
		}
	}
	o := del.DeleteOptions
	if o.GracePeriodSeconds == nil || *o.GracePeriodSeconds != 0 || o.Preconditions == nil || o.Preconditions.UID == nil || *o.Preconditions.UID != web.UID {
		t.Errorf("delete options %+v", o)
	}

	// A terminal pod that holds a finalizer: deleted too; a non-terminal one
	// with a finalizer is first marked Failed.
	fin := create("fin", nil)
	waitFor(t, "fin Running", func() bool { return get("fin").Status.Phase == corev1.PodRunning })
	fin = get("fin")
	fin.Finalizers = []string{"batch.kubernetes.io/job-tracking"}
	fin.DeletionTimestamp = &now
	fin.DeletionGracePeriodSeconds = ptrInt64(30)
	if _, err := cs.CoreV1().Pods("default").Update(ctx, fin, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "fin deleted", func() bool { return get("fin") == nil })
	marked := false
	for _, a := range cs.Actions() {
		if u, ok := a.(k8stesting.UpdateActionImpl); ok && u.Subresource == "status" {
			if p := u.Object.(*corev1.Pod); p.Name == "fin" && p.Status.Phase == corev1.PodFailed {
				marked = true
			}
		}
	}
	if !marked {
		t.Error("fin was not marked Failed before deletion")
	}
}

func TestIPAllocator(t *testing.T) {
	a, err := newIPAllocator("10.9.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	ip1, _ := a.assign("a", "")
	ip2, _ := a.assign("b", "")
	if ip1 != "10.9.0.1" || ip2 != "10.9.0.2" {
		t.Fatalf("%s %s", ip1, ip2)
	}
	if again, _ := a.assign("a", ""); again != ip1 {
		t.Fatalf("reassigned %s", again)
	}
	if ip, _ := a.assign("c", ""); ip != "10.9.0.3" {
		t.Fatalf("third: %s", ip)
	}
	if _, err := a.assign("d", ""); err == nil {
		t.Fatal("expected exhaustion")
	}
	a.release("a")
	if ip, _ := a.assign("d", ""); ip != "10.9.0.1" {
		t.Fatalf("after release: %s", ip)
	}
	if _, err := newIPAllocator("127.0.0.0/8"); err == nil {
		t.Fatal("loopback CIDR accepted")
	}
	// An IP already in status is kept.
	b, _ := newIPAllocator("10.244.0.0/16")
	if ip, _ := b.assign("x", "10.244.7.7"); ip != "10.244.7.7" {
		t.Fatalf("kept %s", ip)
	}
	if ip, _ := b.assign("y", "10.244.7.7"); ip == "10.244.7.7" {
		t.Fatal("duplicate IP handed out")
	}
}

func ptrInt64(v int64) *int64 { return &v }
