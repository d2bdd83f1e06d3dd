package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

// The scale benchmark's subscribers live in a process of their own (this
// binary started with -scale-subscribers), apart from the server and from
// the process that sends the tickets and times them: 5,000 subscriber
// goroutines reading 50,000 events a second in the sender's process delayed
// the sender's own goroutine, and /sendTicket looked slower than the
// server's own timing of it.
//
// The parent writes the child a JSON line ({"base","agents","customers"})
// on its stdin; the child connects every subscriber and answers "ready".
// Then, line by line: "count" is answered with the number of create events
// the agents received since the last report; "report" with a JSON line of
// the receive times by ticket id (Unix ns) and the number of events
// customers heard of other customers' tickets, after which the count
// starts again. The child ends when its stdin closes.

type childConfig struct {
	Base      string   `json:"base"`
	Agents    []string `json:"agents"`
	Customers []string `json:"customers"`
}

type childReport struct {
	Seen   map[string][]int64 `json:"seen"`
	Leaked int64              `json:"leaked"`
}

// runSubscriberChild is the child's side.
func runSubscriberChild() {
	raiseFileLimit()
	in := bufio.NewReader(os.Stdin)
	line, err := in.ReadBytes('\n')
	if err != nil {
		log.Fatal(err)
	}
	var cfg childConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		log.Fatal(err)
	}
	d := &deliveries{seen: map[string][]time.Time{}}
	var leaked atomic.Int64
	conns, err := openScaleSubscribers(cfg.Base, cfg.Agents, cfg.Customers, d, &leaked)
	if err != nil {
		fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
	defer closeAll(conns)
	fmt.Println("ready")
	for {
		cmd, err := in.ReadString('\n')
		if err != nil {
			return // the parent is done
		}
		switch strings.TrimSpace(cmd) {
		case "count":
			d.mu.Lock()
			n := 0
			for _, at := range d.seen {
				n += len(at)
			}
			d.mu.Unlock()
			fmt.Println(n)
		case "report":
			d.mu.Lock()
			r := childReport{Seen: make(map[string][]int64, len(d.seen)), Leaked: leaked.Load()}
			for id, ats := range d.seen {
				ns := make([]int64, len(ats))
				for i, at := range ats {
					ns[i] = at.UnixNano()
				}
				r.Seen[id] = ns
			}
			d.seen = map[string][]time.Time{}
			d.mu.Unlock()
			raw, _ := json.Marshal(r)
			fmt.Println(string(raw))
		}
	}
}

// subscriberChild is the parent's handle on the child.
type subscriberChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startSubscriberChild starts the child and returns once every subscriber
// is connected and subscribed.
func startSubscriberChild(base string, agents, customers []string) (*subscriberChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-scale-subscribers")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &subscriberChild{cmd: cmd, in: in, out: bufio.NewReaderSize(outPipe, 1<<20)}
	raw, _ := json.Marshal(childConfig{Base: base, Agents: agents, Customers: customers})
	if _, err := fmt.Fprintf(in, "%s\n", raw); err != nil {
		c.close()
		return nil, err
	}
	line, err := c.out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		c.close()
		return nil, fmt.Errorf("the subscriber process: %q %v", strings.TrimSpace(line), err)
	}
	return c, nil
}

func (c *subscriberChild) ask(cmd string) string {
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		log.Fatalf("the subscriber process: %v", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		log.Fatalf("the subscriber process: %v", err)
	}
	return line
}

// count is the number of create events the agents received since the last
// report.
func (c *subscriberChild) count() int {
	var n int
	fmt.Sscan(c.ask("count"), &n)
	return n
}

// report returns the receive times by ticket id since the last report, and
// how many events customers heard of other customers' tickets in all.
func (c *subscriberChild) report() (map[string][]time.Time, int64) {
	var r childReport
	if err := json.Unmarshal([]byte(c.ask("report")), &r); err != nil {
		log.Fatalf("the subscriber process's report: %v", err)
	}
	seen := make(map[string][]time.Time, len(r.Seen))
	for id, ns := range r.Seen {
		for _, n := range ns {
			seen[id] = append(seen[id], time.Unix(0, n))
		}
	}
	return seen, r.Leaked
}

func (c *subscriberChild) close() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}
