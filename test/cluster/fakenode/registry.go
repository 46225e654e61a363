package main

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// streamRegistry tracks the open port-forward streams of each pod (by UID)
// so that deleting a pod can cut them, as killing its containers would.
type streamRegistry struct {
	mu      sync.Mutex
	open    map[types.UID]map[*streamEntry]struct{}
	closing map[types.UID]bool // pods whose streams were closed: refuse new ones
}

type streamEntry struct {
	once  sync.Once
	close func()
}

func newStreamRegistry() *streamRegistry {
	return &streamRegistry{
		open:    map[types.UID]map[*streamEntry]struct{}{},
		closing: map[types.UID]bool{},
	}
}

// add registers a stream of pod uid; closeFn must make the stream's backend
// return promptly. It returns the function that unregisters the stream, or
// ok=false when the pod is already being deleted.
func (r *streamRegistry) add(uid types.UID, closeFn func()) (remove func(), ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing[uid] {
		return nil, false
	}
	e := &streamEntry{close: closeFn}
	set := r.open[uid]
	if set == nil {
		set = map[*streamEntry]struct{}{}
		r.open[uid] = set
	}
	set[e] = struct{}{}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if set := r.open[uid]; set != nil {
			delete(set, e)
			if len(set) == 0 {
				delete(r.open, uid)
			}
		}
	}, true
}

// closePod closes every open stream of pod uid, refuses new ones from now
// on, and returns how many streams it closed.
func (r *streamRegistry) closePod(uid types.UID) int {
	r.mu.Lock()
	r.closing[uid] = true
	set := r.open[uid]
	delete(r.open, uid)
	r.mu.Unlock()
	for e := range set {
		e.once.Do(e.close)
	}
	return len(set)
}

// forget drops what is known about pod uid once its object is gone.
func (r *streamRegistry) forget(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.closing, uid)
}

// count returns the number of open streams of pod uid.
func (r *streamRegistry) count(uid types.UID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.open[uid])
}
