//go:build !linux

package realtime

// Elsewhere than on Linux, an idle socket waits on a goroutine of its own.
type poller struct{}

func processPoller() *poller { return nil }

func (p *poller) park(c *client) (bool, error) { return false, errNoPoller }

func (p *poller) unpark(ic *idleConn) *client { return nil }

// ping is only written in place by the Linux poller; elsewhere the library
// pings (see client.requestPing).
func (c *idleConn) ping() error { return errNoPoller }
