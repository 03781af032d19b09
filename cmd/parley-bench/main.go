// Command parley-bench drives a running Parley server over loopback the way
// real clients do. In the chat scenario (the default), visitors open
// conversations over REST and chat on /ws at a given total rate, agents
// receive every message live and reply, and a share of the sockets is cut
// and resumed every second; it checks the delivery promise (every acked
// message reaches the other side once, in order). In the send scenario,
// -clients keep-alive connections post to /api/messages/send as fast as the
// server answers, and every acknowledged message is read back once sending
// stops. Both measure throughput and latency. With -json the last line of
// its output is a JSON summary; it exits 1 when anything was lost,
// duplicated or out of order.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return 2
	}
	if cfg.CPUProfile != "" {
		// The load generator shares the machine with the server: its own
		// profile shows what of the machine it takes.
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintln(stderr, "parley-bench:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "parley-bench:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "parley-bench:", err)
		return 1
	}
	if cfg.JSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprint(stdout, res.Text())
	}
	if !res.OK() {
		return 1
	}
	return 0
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Config{
		Scenario:      "chat",
		Clients:       50,
		URL:           "http://127.0.0.1:8080",
		Visitors:      100,
		Agents:        4,
		Rate:          200,
		Duration:      10 * time.Second,
		Reply:         0.2,
		Drain:         10 * time.Second,
		AgentEmail:    getenv("PARLEY_BENCH_AGENT_EMAIL"),
		AgentPassword: getenv("PARLEY_BENCH_AGENT_PASSWORD"),
	}
	if c.AgentEmail == "" {
		c.AgentEmail = "admin@localhost"
	}
	var sources string
	fs := flag.NewFlagSet("parley-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Scenario, "scenario", c.Scenario, "chat (visitors and agents on sockets) or send (POST /api/messages/send)")
	fs.StringVar(&c.URL, "url", c.URL, "the server's base URL")
	fs.IntVar(&c.Clients, "clients", c.Clients, "send: keep-alive connections, each sending one request after another")
	fs.IntVar(&c.Visitors, "visitors", c.Visitors, "visitors, each with a conversation (and, in chat, a socket)")
	fs.IntVar(&c.Agents, "agents", c.Agents, "agent sockets (sharing one account) that receive and reply")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "visitor messages per second, in total")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long visitors send")
	fs.Float64Var(&c.Churn, "churn", c.Churn, "fraction of sockets cut and resumed per second")
	fs.Float64Var(&c.Reply, "reply", c.Reply, "fraction of visitor messages an agent answers")
	fs.DurationVar(&c.Drain, "drain", c.Drain, "how long to wait for deliveries after sending stops")
	fs.BoolVar(&c.JSON, "json", false, "print a JSON summary as the last line")
	fs.StringVar(&sources, "source-addrs", "", "comma-separated local addresses to connect from (e.g. 127.0.0.2,127.0.0.3)")
	fs.StringVar(&c.AgentEmail, "agent-email", c.AgentEmail, "agent account (PARLEY_BENCH_AGENT_EMAIL)")
	fs.StringVar(&c.AgentPassword, "agent-password", c.AgentPassword, "its password (PARLEY_BENCH_AGENT_PASSWORD)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write parley-bench's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, s := range strings.Split(sources, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.SourceAddrs = append(c.SourceAddrs, s)
		}
	}
	if err := c.validate(); err != nil {
		fmt.Fprintln(stderr, "parley-bench:", err)
		return c, err
	}
	return c, nil
}
