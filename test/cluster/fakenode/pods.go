package main

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

const podWorkers = 4

// podController plays scheduler and kubelet for every pod: it binds
// unscheduled pods to this node, reports them Running (or whatever their
// annotations ask for) and completes their deletion.
type podController struct {
	client   kubernetes.Interface
	nodeName string
	ips      *ipAllocator
	registry *streamRegistry

	factory informers.SharedInformerFactory
	lister  corelisters.PodLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newPodController(client kubernetes.Interface, nodeName string, ips *ipAllocator, registry *streamRegistry) *podController {
	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods()
	c := &podController{
		client:   client,
		nodeName: nodeName,
		ips:      ips,
		registry: registry,
		factory:  factory,
		lister:   pods.Lister(),
		synced:   pods.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](10*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "fakenode-pods"}),
	}
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.onDelete,
	})
	return c
}

func (c *podController) enqueue(obj interface{}) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *podController) onDelete(obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if n := c.registry.closePod(pod.UID); n > 0 {
		log.Printf("pod %s/%s gone: closed %d port-forward stream(s)", pod.Namespace, pod.Name, n)
	}
	c.ips.release(pod.UID)
	c.registry.forget(pod.UID)
}

// start runs the informer and the workers; it returns once the cache has
// synced.
func (c *podController) start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("pod informer did not sync: %w", ctx.Err())
	}
	// Reserve the IPs of pods that already run here (after a restart).
	pods, _ := c.lister.List(labels.Everything())
	for _, p := range pods {
		if p.Spec.NodeName == c.nodeName && p.Status.PodIP != "" {
			_, _ = c.ips.assign(p.UID, p.Status.PodIP)
		}
	}
	for i := 0; i < podWorkers; i++ {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	return nil
}

func (c *podController) stop() {
	if c.cancel != nil {
		c.cancel()
	}
	c.queue.ShutDown()
	c.wg.Wait()
	c.factory.Shutdown()
}

func (c *podController) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		if ctx.Err() != nil {
			return false
		}
		if !apierrors.IsConflict(err) {
			log.Printf("pod %s: %v (will retry)", key, err)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *podController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case pod.Spec.NodeName == "":
		return c.bind(ctx, pod)
	case pod.Spec.NodeName != c.nodeName:
		return nil
	case pod.DeletionTimestamp != nil:
		return c.finishDeletion(ctx, pod)
	default:
		return c.syncStatus(ctx, pod)
	}
}

func (c *podController) bind(ctx context.Context, pod *corev1.Pod) error {
	if pod.DeletionTimestamp != nil || len(pod.Spec.SchedulingGates) > 0 {
		return nil
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: c.nodeName},
	}
	err := c.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	switch {
	case err == nil:
		log.Printf("bound pod %s/%s", pod.Namespace, pod.Name)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil // gone, or already bound (the update event follows)
	default:
		return fmt.Errorf("bind: %w", err)
	}
}

func (c *podController) syncStatus(ctx context.Context, pod *corev1.Pod) error {
	if isTerminal(pod.Status.Phase) {
		return nil // the API server forbids leaving a terminal phase
	}
	return c.writeStatus(ctx, pod, modeFor(pod))
}

func (c *podController) writeStatus(ctx context.Context, pod *corev1.Pod, mode podMode) error {
	ip, err := c.ips.assign(pod.UID, pod.Status.PodIP)
	if err != nil {
		return err
	}
	st := buildStatus(pod, mode, ip, time.Now())
	if statusSignature(&st) == statusSignature(&pod.Status) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = st
	_, err = c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	switch {
	case err == nil:
		log.Printf("pod %s/%s: phase %s, ready %t, ip %s", pod.Namespace, pod.Name, st.Phase, mode == modeReady, ip)
		return nil
	case apierrors.IsNotFound(err):
		return nil
	default:
		return fmt.Errorf("update status: %w", err)
	}
}

// finishDeletion does what a kubelet does once a pod has a deletion
// timestamp: stop everything (here: the pod's port-forward streams), report
// a terminal phase if finalizers will keep the object around, and delete it
// for good.
func (c *podController) finishDeletion(ctx context.Context, pod *corev1.Pod) error {
	if n := c.registry.closePod(pod.UID); n > 0 {
		log.Printf("pod %s/%s deleting: closed %d port-forward stream(s)", pod.Namespace, pod.Name, n)
	}
	if len(pod.Finalizers) > 0 && !isTerminal(pod.Status.Phase) {
		if err := c.writeStatus(ctx, pod, modeKilled); err != nil {
			return err
		}
	}
	if pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds == 0 {
		return nil // already final; only finalizers hold it
	}
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: ptr.To(pod.UID)},
	})
	switch {
	case err == nil:
		log.Printf("deleted pod %s/%s", pod.Namespace, pod.Name)
		return nil
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		// UID precondition failed: a new pod took the name; nothing to do.
		return nil
	default:
		return fmt.Errorf("delete: %w", err)
	}
}

// lookup finds a pod for the port-forward server: informer cache first, then
// the API server (a pod bound a moment ago may not be cached yet).
func (c *podController) lookup(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	pod, err := c.lister.Pods(namespace).Get(name)
	if err == nil {
		return pod, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	return c.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
}
