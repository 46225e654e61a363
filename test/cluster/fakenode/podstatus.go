package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations that steer the status the fake node reports for a pod.
const (
	annPhase   = "kubeforward.test/phase"   // "Succeeded" or "Failed"
	annReason  = "kubeforward.test/reason"  // status.reason with phase Failed, e.g. "Evicted"
	annMessage = "kubeforward.test/message" // status.message with phase Failed
	annReady   = "kubeforward.test/ready"   // "false": Running but not Ready
)

const hostIP = "127.0.0.1"

// podMode is what the pod should look like, derived from its annotations.
type podMode int

const (
	modeReady    podMode = iota // Running, Ready
	modeNotReady                // Running, not Ready
	modeSucceeded
	modeFailed
	modeKilled // deleted while holding finalizers: Failed, containers killed
)

func modeFor(pod *corev1.Pod) podMode {
	switch strings.TrimSpace(pod.Annotations[annPhase]) {
	case string(corev1.PodSucceeded):
		return modeSucceeded
	case string(corev1.PodFailed):
		return modeFailed
	}
	if strings.EqualFold(strings.TrimSpace(pod.Annotations[annReady]), "false") {
		return modeNotReady
	}
	return modeReady
}

func isTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

// buildStatus returns the status the pod should have in the given mode. It
// starts from the current status (keeping fields the API server owns, such
// as qosClass) and keeps timestamps and IDs that are already there, so that
// recomputing it for an up-to-date pod yields the same status.
func buildStatus(pod *corev1.Pod, mode podMode, podIP string, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now.Truncate(time.Second))
	st := *pod.Status.DeepCopy()
	if st.StartTime == nil {
		st.StartTime = &t
	}
	started := *st.StartTime
	st.HostIP = hostIP
	st.HostIPs = []corev1.HostIP{{IP: hostIP}}
	st.PodIP = podIP
	st.PodIPs = []corev1.PodIP{{IP: podIP}}
	st.ObservedGeneration = pod.Generation
	st.Reason, st.Message = "", ""
	st.NominatedNodeName = ""

	running := mode == modeReady || mode == modeNotReady
	ready := mode == modeReady
	switch mode {
	case modeReady, modeNotReady:
		st.Phase = corev1.PodRunning
	case modeSucceeded:
		st.Phase = corev1.PodSucceeded
	case modeFailed:
		st.Phase = corev1.PodFailed
		st.Reason = pod.Annotations[annReason]
		st.Message = pod.Annotations[annMessage]
		if st.Message == "" && st.Reason == "Evicted" {
			st.Message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 10Mi."
		}
	case modeKilled:
		st.Phase = corev1.PodFailed
	}

	// Containers.
	oldByName := map[string]corev1.ContainerStatus{}
	for _, cs := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		oldByName[cs.Name] = cs
	}
	term := func(code int32, reason string) *corev1.ContainerStateTerminated {
		return &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: t}
	}
	containerStatus := func(c corev1.Container, init bool) corev1.ContainerStatus {
		old, hadOld := oldByName[c.Name]
		cs := corev1.ContainerStatus{
			Name:        c.Name,
			Image:       c.Image,
			ImageID:     imageID(c.Image),
			ContainerID: containerID(pod, c.Name),
		}
		sidecar := init && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		switch {
		case init && !sidecar:
			cs.State.Terminated = term(0, "Completed")
			if hadOld && old.State.Terminated != nil {
				cs.State.Terminated = old.State.Terminated.DeepCopy()
			}
		case running:
			startedAt := started
			if hadOld && old.State.Running != nil {
				startedAt = old.State.Running.StartedAt
			}
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: startedAt}
			cs.Ready, cs.Started = ready, ptrBool(true)
		default:
			code, reason := int32(0), "Completed"
			if mode == modeFailed || mode == modeKilled {
				// With status.reason set (e.g. Evicted) the containers carry
				// it too, so `kubectl get pods` shows it.
				code, reason = 137, "Error"
				if st.Reason != "" {
					reason = st.Reason
				}
			}
			cs.State.Terminated = term(code, reason)
			if hadOld && old.State.Running != nil {
				cs.State.Terminated.StartedAt = old.State.Running.StartedAt
			}
			if hadOld && old.State.Terminated != nil {
				cs.State.Terminated = old.State.Terminated.DeepCopy()
			}
			cs.Started = ptrBool(false)
		}
		if cs.State.Terminated != nil {
			cs.State.Terminated.ContainerID = cs.ContainerID
		}
		return cs
	}
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, containerStatus(c, true))
	}
	st.ContainerStatuses = nil
	var unready []string
	for _, c := range pod.Spec.Containers {
		cs := containerStatus(c, false)
		if !cs.Ready {
			unready = append(unready, c.Name)
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}

	// Conditions.
	readyStatus, readyReason, readyMsg := corev1.ConditionTrue, "", ""
	switch mode {
	case modeNotReady:
		readyStatus, readyReason = corev1.ConditionFalse, "ContainersNotReady"
		readyMsg = fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	case modeSucceeded:
		readyStatus, readyReason = corev1.ConditionFalse, "PodCompleted"
	case modeFailed, modeKilled:
		readyStatus, readyReason = corev1.ConditionFalse, "PodFailed"
	}
	sandbox := corev1.ConditionTrue
	if !running {
		sandbox = corev1.ConditionFalse
	}
	want := []corev1.PodCondition{
		{Type: corev1.PodReadyToStartContainers, Status: sandbox},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: readyStatus, Reason: readyReason, Message: readyMsg},
		{Type: corev1.ContainersReady, Status: readyStatus, Reason: readyReason, Message: readyMsg},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
	if mode == modeFailed && st.Reason == "Evicted" {
		want = append(want, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "TerminationByKubelet", Message: st.Message})
	}
	st.Conditions = mergeConditions(pod.Status.Conditions, want, pod.Generation, t)
	return st
}

// mergeConditions sets the wanted conditions, keeping any others (e.g.
// readiness gates) and keeping transition times of unchanged conditions.
func mergeConditions(old, want []corev1.PodCondition, generation int64, now metav1.Time) []corev1.PodCondition {
	prev := map[corev1.PodConditionType]corev1.PodCondition{}
	for _, c := range old {
		prev[c.Type] = c
	}
	out := make([]corev1.PodCondition, 0, len(want)+len(old))
	seen := map[corev1.PodConditionType]bool{}
	for _, c := range want {
		c.LastTransitionTime = now
		if p, ok := prev[c.Type]; ok && p.Status == c.Status && !p.LastTransitionTime.IsZero() {
			c.LastTransitionTime = p.LastTransitionTime
		}
		c.ObservedGeneration = generation
		out = append(out, c)
		seen[c.Type] = true
	}
	for _, c := range old {
		if !seen[c.Type] {
			out = append(out, c)
		}
	}
	return out
}

// statusSignature condenses the fields the fake node owns, to decide whether
// an update is needed without being fooled by fields the API server
// normalises or drops.
func statusSignature(st *corev1.PodStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|", st.Phase, st.Reason, st.Message, st.PodIP, st.HostIP)
	conds := make([]string, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		conds = append(conds, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	sort.Strings(conds)
	b.WriteString(strings.Join(conds, ","))
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		b.WriteString("|")
		for _, cs := range list {
			state := "waiting"
			switch {
			case cs.State.Running != nil:
				state = "running"
			case cs.State.Terminated != nil:
				state = fmt.Sprintf("terminated:%d", cs.State.Terminated.ExitCode)
			}
			fmt.Fprintf(&b, "%s:%t:%s:%s;", cs.Name, cs.Ready, state, cs.ContainerID)
		}
	}
	return b.String()
}

func containerID(pod *corev1.Pod, name string) string {
	sum := sha256.Sum256([]byte(string(pod.UID) + "/" + name))
	return "containerd://" + hex.EncodeToString(sum[:])
}

// imageID turns "nginx:1.27" into "docker.io/library/nginx@sha256:<hash>".
func imageID(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image
	}
	repo := image
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	if !strings.Contains(repo, "/") {
		repo = "library/" + repo
	}
	if first := repo[:strings.Index(repo, "/")]; !strings.ContainsAny(first, ".:") && first != "localhost" {
		repo = "docker.io/" + repo
	}
	sum := sha256.Sum256([]byte(image))
	return repo + "@sha256:" + hex.EncodeToString(sum[:])
}

func ptrBool(b bool) *bool { return &b }
