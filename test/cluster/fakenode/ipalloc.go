package main

import (
	"fmt"
	"net/netip"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// ipAllocator hands out synthetic, unique pod IPs from the pod CIDR. They are
// only ever written into pod status (EndpointSlices reject 127/8), never
// dialled.
type ipAllocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	next   netip.Addr
	byUID  map[types.UID]netip.Addr
	used   map[netip.Addr]types.UID
}

func newIPAllocator(cidr string) (*ipAllocator, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("--pod-cidr: %w", err)
	}
	p = p.Masked()
	if p.Addr().IsLoopback() {
		return nil, fmt.Errorf("--pod-cidr %s: loopback addresses are rejected in EndpointSlices", cidr)
	}
	if p.Addr().BitLen()-p.Bits() < 2 {
		return nil, fmt.Errorf("--pod-cidr %s is too small", cidr)
	}
	return &ipAllocator{
		prefix: p,
		next:   p.Addr().Next(),
		byUID:  map[types.UID]netip.Addr{},
		used:   map[netip.Addr]types.UID{},
	}, nil
}

// assign returns the IP of the pod with uid, keeping current (its IP from
// status, if any) when it is valid and not taken by another pod.
func (a *ipAllocator) assign(uid types.UID, current string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ip, ok := a.byUID[uid]; ok {
		return ip.String(), nil
	}
	if ip, err := netip.ParseAddr(current); err == nil {
		if owner, taken := a.used[ip]; !taken || owner == uid {
			a.byUID[uid], a.used[ip] = ip, uid
			return ip.String(), nil
		}
	}
	start := a.next
	for {
		ip := a.next
		a.next = a.next.Next()
		if !a.prefix.Contains(a.next) {
			a.next = a.prefix.Addr().Next()
		}
		if _, taken := a.used[ip]; !taken && a.usable(ip) {
			a.byUID[uid], a.used[ip] = ip, uid
			return ip.String(), nil
		}
		if a.next == start {
			return "", fmt.Errorf("pod CIDR %s exhausted", a.prefix)
		}
	}
}

// usable skips the network address and, for IPv4, addresses ending in .0 or
// .255, which look odd in a pod list.
func (a *ipAllocator) usable(ip netip.Addr) bool {
	if ip == a.prefix.Addr() || !a.prefix.Contains(ip) {
		return false
	}
	if ip.Is4() {
		last := ip.As4()[3]
		return last != 0 && last != 255
	}
	return true
}

func (a *ipAllocator) release(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ip, ok := a.byUID[uid]; ok {
		delete(a.byUID, uid)
		if a.used[ip] == uid {
			delete(a.used, ip)
		}
	}
}
