package main

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// streamConn adapts a port-forward stream to net.Conn for net/http.
//
// net/http needs working read deadlines: when a handler finishes it aborts
// its background read by setting a deadline in the past and waits for that
// read to return. A reader goroutine feeds chunks through a channel so that
// Read can honour deadlines without losing data. Close half-closes the
// stream (SPDY FIN), which is how the client learns the response is over.
type streamConn struct {
	rwc    io.ReadWriteCloser
	target target

	chunks chan []byte
	rerr   error // valid once chunks is closed

	rmu     sync.Mutex // serialises Read
	pending []byte
	eof     bool

	dmu       sync.Mutex
	rdeadline time.Time
	dlChanged chan struct{} // closed and replaced on every deadline change

	wmu       sync.Mutex // serialises Write and CloseWrite
	closeOnce sync.Once
	closed    chan struct{}
}

func newStreamConn(rwc io.ReadWriteCloser, t target) *streamConn {
	c := &streamConn{
		rwc:       rwc,
		target:    t,
		chunks:    make(chan []byte, 4),
		dlChanged: make(chan struct{}),
		closed:    make(chan struct{}),
	}
	go c.readLoop()
	return c
}

func (c *streamConn) readLoop() {
	for {
		buf := make([]byte, 32<<10)
		n, err := c.rwc.Read(buf)
		if n > 0 {
			select {
			case c.chunks <- buf[:n]:
			case <-c.closed:
				return
			}
		}
		if err != nil {
			c.rerr = err
			close(c.chunks)
			return
		}
	}
}

func (c *streamConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.pending) == 0 {
		if c.eof {
			return 0, c.rerr
		}
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		default:
		}
		c.dmu.Lock()
		dl, changed := c.rdeadline, c.dlChanged
		c.dmu.Unlock()
		var timeout <-chan time.Time
		var timer *time.Timer
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			timeout = timer.C
		}
		select {
		case b, ok := <-c.chunks:
			if ok {
				c.pending = b
			} else {
				c.eof = true
			}
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		case <-changed:
		case <-c.closed:
			if timer != nil {
				timer.Stop()
			}
			return 0, net.ErrClosed
		}
		if timer != nil {
			timer.Stop()
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *streamConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	return c.rwc.Write(p)
}

// CloseWrite half-closes the stream; net/http calls it before closing.
func (c *streamConn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.rwc.Close()
}

func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		_ = c.rwc.Close()
	})
	return nil
}

// done is closed once the connection has been closed.
func (c *streamConn) done() <-chan struct{} { return c.closed }

func (c *streamConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(c.target.port)}
}

func (c *streamConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}
}

func (c *streamConn) SetDeadline(t time.Time) error {
	return c.SetReadDeadline(t)
}

func (c *streamConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	c.rdeadline = t
	close(c.dlChanged)
	c.dlChanged = make(chan struct{})
	c.dmu.Unlock()
	return nil
}

// SetWriteDeadline is not supported (the fake node sets no write timeouts).
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

// connListener hands streamConns to an http.Server.
type connListener struct {
	conns     chan net.Conn
	closeOnce sync.Once
	closed    chan struct{}
}

func newConnListener() *connListener {
	return &connListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}
