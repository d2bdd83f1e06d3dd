package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The separate-process realtime benchmark of issue 18: the server runs in
// its own process; a subscriber process (scale_child.go) holds the
// subscribers, each an SSE connection of its own with a token of its own
// (agents subscribed to tickets/* and adminsRoom, customers to tickets/*),
// and in this process customer0 sends tickets through /sendTicket, one every 100 ms or back to back. Measured
// per run: /sendTicket latency (against the same with nobody subscribed,
// and the server's own p99 bucket from /metrics),
// every agent's delivery latency (from the start of the request to the
// create event's arrival), the server's CPU per ticket (from
// /proc/<pid>/stat, over the sending and delivering) and its RSS. The
// customers must hear nothing (customer0 is not one of them); the run fails
// otherwise. The same runs are made against PocketBase's own broadcaster
// (PORTAL_BENCH_POCKETBASE_REALTIME=1) at the sizes given by -scale-pb.

type scaleRun struct {
	server             string // "portal" or "PocketBase"
	agents, customers  int
	paced              bool
	sendP50, sendP99   time.Duration
	quietP50, quietP99 time.Duration
	delP50, delP99     time.Duration
	delMax             time.Duration
	delivered, wanted  int
	cpuPerTicket       time.Duration
	perWrite           float64       // messages per write to a connection (the server's counters)
	serverSendP99      time.Duration // the upper bound of the server's histogram bucket with the /sendTicket p99
	rss                float64
	load               string
}

type scaleScenario struct{ agents, customers int }

func runScale(bin, dataDir string, s *seeded, sizes, pbSizes []int, tickets int, pprofAddr string) {
	var runs []scaleRun
	for _, server := range []string{"portal", "PocketBase"} {
		var scenarios []scaleScenario
		for _, n := range sizes {
			if server == "PocketBase" && !contains(pbSizes, n) {
				continue
			}
			scenarios = append(scenarios, scaleScenario{n / 10, n - n/10}, scaleScenario{n, 0})
		}
		if len(scenarios) == 0 {
			continue
		}
		env := []string{"PORTAL_REALTIME_MAX_GUEST_CONNECTIONS_PER_IP=100000", "PORTAL_METRICS_TOKEN=" + benchMetricsToken}
		if server == "PocketBase" {
			env = append(env, "PORTAL_BENCH_POCKETBASE_REALTIME=1")
		} else if pprofAddr != "" {
			env = append(env, "PORTAL_BENCH_PPROF="+pprofAddr)
		}
		base, stop := startServer(bin, dataDir, env)
		pid := stop.pid
		m0 := serverMetrics(base)
		qp50, qp99 := quietSend(base, s, tickets, true)
		m1 := serverMetrics(base)
		qb50, qb99 := quietSend(base, s, tickets, false)
		log.Printf("%s quiet /sendTicket: paced p50 %s p99 %s (server's p99 ≤ %s), back to back p50 %s p99 %s (server's p99 ≤ %s)",
			server, ms(qp50), ms(qp99), ms(serverP99(m0, m1)), ms(qb50), ms(qb99), ms(serverP99(m1, serverMetrics(base))))
		for _, sc := range scenarios {
			t0 := time.Now()
			subs, err := startSubscriberChild(base, s.subscriberToks[:sc.agents], s.customerToks[:sc.customers])
			if err != nil {
				stop.kill()
				log.Fatalf("%s: %d agents + %d customers: %v", server, sc.agents, sc.customers, err)
			}
			log.Printf("%s: %d agents + %d customers subscribed in %s, server RSS %.0f MiB", server, sc.agents, sc.customers, time.Since(t0).Round(time.Second), rssMiB(pid))
			time.Sleep(2 * time.Second)
			for _, paced := range []bool{true, false} {
				r := scaleSend(base, pid, s, sc, paced, tickets, subs)
				r.server = server
				r.quietP50, r.quietP99 = qp50, qp99
				if !paced {
					r.quietP50, r.quietP99 = qb50, qb99
				}
				log.Printf("%s %d agents + %d customers %s: send p50 %s p99 %s (server's p99 ≤ %s; quiet %s / %s), delivery p50 %s p99 %s max %s, %d/%d, CPU/ticket %s, %.1f messages/write, RSS %.0f MiB, load %s",
					server, sc.agents, sc.customers, pacing(paced), ms(r.sendP50), ms(r.sendP99), ms(r.serverSendP99), ms(r.quietP50), ms(r.quietP99),
					ms(r.delP50), ms(r.delP99), ms(r.delMax), r.delivered, r.wanted, ms(r.cpuPerTicket), r.perWrite, r.rss, r.load)
				runs = append(runs, r)
			}
			_, leaked := subs.report()
			subs.close()
			if n := leaked; n > 0 {
				stop.kill()
				log.Fatalf("%s: customers heard %d events of another customer's tickets", server, n)
			}
			time.Sleep(3 * time.Second)
		}
		stop.kill()
	}

	fmt.Printf("\n## Realtime at scale (issue 18) — %s, %d cores, subscribers in a process of their own, %d tickets per run\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), nproc(), tickets)
	fmt.Println("| server | agents + customers | sending | /sendTicket p50 / p99 | quiet p50 / p99 | p99 ratio | server's p99 ≤ | delivery p50 | p99 | max | delivered | server CPU / ticket | messages / write | RSS | load avg |")
	fmt.Println("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range runs {
		fmt.Printf("| %s | %d + %d | %s | %s / %s | %s / %s | %.1f× | %s | %s | %s | %s | %d/%d | %s | %.1f | %.0f MiB | %s |\n",
			r.server, r.agents, r.customers, pacing(r.paced), ms(r.sendP50), ms(r.sendP99), ms(r.quietP50), ms(r.quietP99),
			float64(r.sendP99)/float64(max(r.quietP99, 1)), ms(r.serverSendP99), ms(r.delP50), ms(r.delP99), ms(r.delMax), r.delivered, r.wanted,
			ms(r.cpuPerTicket), r.perWrite, r.rss, r.load)
	}
}

func pacing(paced bool) string {
	if paced {
		return "every 100 ms"
	}
	return "back to back"
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

type server struct {
	cmd *exec.Cmd
	pid int
}

func (s server) kill() { s.cmd.Process.Kill(); s.cmd.Wait() }

func startServer(bin, dataDir string, env []string) (string, server) {
	port := freePort()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve", "--http=127.0.0.1:"+fmt.Sprint(port), "--dir="+dataDir)
	cmd.Env = append(os.Environ(), env...)
	// BENCH_SERVER_STDERR=file keeps the server's stderr (with
	// GODEBUG=gctrace=1 in the environment: its garbage collections)
	if path := os.Getenv("BENCH_SERVER_STDERR"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	waitUp(base)
	return base, server{cmd, cmd.Process.Pid}
}

func loadAvg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}

// postTicket sends one ticket as customer0 and returns its id and latency.
func postTicket(client *http.Client, base string, s *seeded, i int) (string, time.Time, time.Duration, error) {
	body := fmt.Sprintf(`{"ticketContent":"scale ticket %d"}`, i)
	req, _ := http.NewRequest(http.MethodPost, base+"/sendTicket", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.customerToken)
	t0 := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return "", t0, 0, err
	}
	var created struct {
		TicketId string `json:"ticketId"`
	}
	json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	took := time.Since(t0)
	if res.StatusCode != http.StatusCreated {
		return "", t0, took, fmt.Errorf("sendTicket: status %d", res.StatusCode)
	}
	return created.TicketId, t0, took, nil
}

func quietSend(base string, s *seeded, n int, paced bool) (time.Duration, time.Duration) {
	client := &http.Client{}
	var took []time.Duration
	for i := range n {
		_, _, d, err := postTicket(client, base, s, i)
		if err != nil {
			log.Fatal(err)
		}
		took = append(took, d)
		if paced {
			time.Sleep(max(0, 100*time.Millisecond-d))
		}
	}
	return pct(took, 50), pct(took, 99)
}

// scaleSend sends n tickets (one every 100 ms, or back to back) and waits
// for the agents' deliveries.
func scaleSend(base string, pid int, s *seeded, sc scaleScenario, paced bool, n int, subs *subscriberChild) scaleRun {
	r := scaleRun{agents: sc.agents, customers: sc.customers, paced: paced}
	client := &http.Client{}
	type sent struct {
		id string
		at time.Time
	}
	var all []sent
	var took []time.Duration
	cpu0 := cpuTime(pid)
	m0 := serverMetrics(base)
	next := time.Now()
	for i := range n {
		if paced {
			time.Sleep(time.Until(next))
			next = next.Add(100 * time.Millisecond)
		}
		id, at, dur, err := postTicket(client, base, s, i)
		if err != nil {
			log.Fatal(err)
		}
		all = append(all, sent{id, at})
		took = append(took, dur)
	}
	r.wanted = n * sc.agents
	deadline := time.Now().Add(30 * time.Second)
	for subs.count() < r.wanted && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	r.cpuPerTicket = (cpuTime(pid) - cpu0) / time.Duration(n)
	m1 := serverMetrics(base)
	if m1.writes > m0.writes {
		r.perWrite = (m1.msgs - m0.msgs) / (m1.writes - m0.writes)
	}
	r.serverSendP99 = serverP99(m0, m1)
	r.rss = rssMiB(pid)
	r.load = loadAvg()
	var deliver []time.Duration
	seen, _ := subs.report()
	for _, x := range all {
		for _, at := range seen[x.id] {
			deliver = append(deliver, at.Sub(x.at))
		}
	}
	r.delivered = len(deliver)
	r.sendP50, r.sendP99 = pct(took, 50), pct(took, 99)
	slow := slices.Clone(took)
	slices.Sort(slow)
	log.Printf("slowest sends: %v", slow[max(0, len(slow)-6):])
	if len(deliver) > 0 {
		r.delP50, r.delP99, r.delMax = pct(deliver, 50), pct(deliver, 99), pct(deliver, 100)
	}
	return r
}

// openScaleSubscribers connects the agents and the customers, 128 at a
// time.
// benchMetricsToken lets the bench read the server's /metrics.
const benchMetricsToken = "bench-metrics-token"

// scaleMetrics is what the bench reads of the server's /metrics: the
// realtime engine's writes and messages written, and the histogram of the
// server's own /sendTicket times (cumulative counts by upper bound, in
// seconds).
type scaleMetrics struct {
	writes, msgs float64
	sendBuckets  map[float64]float64
}

// serverP99 is the upper bound of the histogram bucket that holds the 99th
// percentile of the /sendTicket requests between two readings: the
// server's own time for a request, without the bench's.
func serverP99(before, after scaleMetrics) time.Duration {
	var bounds []float64
	for le := range after.sendBuckets {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return 0
	}
	total := after.sendBuckets[bounds[len(bounds)-1]] - before.sendBuckets[bounds[len(bounds)-1]]
	for _, le := range bounds {
		if after.sendBuckets[le]-before.sendBuckets[le] >= 0.99*total {
			return time.Duration(le * float64(time.Second))
		}
	}
	return 0
}

func serverMetrics(base string) scaleMetrics {
	m := scaleMetrics{sendBuckets: map[float64]float64{}}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+benchMetricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return m
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var v float64
		if _, err := fmt.Sscanf(line, "ticketportal_realtime_writes_total %g", &v); err == nil {
			m.writes = v
		} else if _, err := fmt.Sscanf(line, "ticketportal_realtime_messages_written_total %g", &v); err == nil {
			m.msgs = v
		} else if strings.HasPrefix(line, "ticketportal_http_request_duration_seconds_bucket{") && strings.Contains(line, `/sendTicket"`) {
			_, rest, _ := strings.Cut(line, `le="`)
			leText, rest, _ := strings.Cut(rest, `"`)
			_, countText, _ := strings.Cut(rest, "} ")
			le, err1 := strconv.ParseFloat(leText, 64)
			n, err2 := strconv.ParseFloat(strings.TrimSpace(countText), 64)
			if err1 == nil && err2 == nil { // +Inf parses too
				m.sendBuckets[le] = n
			}
		}
	}
	return m
}

func openScaleSubscribers(base string, agents, customers []string, d *deliveries, leaked *atomic.Int64) ([]*subscriber, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	type job struct {
		token    string
		customer bool
	}
	var jobs []job
	for _, t := range agents {
		jobs = append(jobs, job{t, false})
	}
	for _, t := range customers {
		jobs = append(jobs, job{t, true})
	}
	subs := make([]*subscriber, len(jobs))
	var firstErr error
	var mu sync.Mutex
	sem := make(chan struct{}, 128)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var s *subscriber
			var err error
			for try := 0; try < 3; try++ {
				if s, err = openScaleSubscriber(client, base, j.token, j.customer, d, leaked); err == nil {
					break
				}
				time.Sleep(time.Second)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			subs[i] = s
		})
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(subs)
		return nil, firstErr
	}
	return subs, nil
}

// createdId is the record id of a create event's data, read without
// decoding the whole record: the subscribers share the machine with the
// server, and decoding 50,000 records a second took most of a core that
// the server then lacked. The server writes the action after the record
// ({"record":{...},"action":"create"}); the record's own "id" is the only
// key spelt that way (the others are customerId, collectionId, ...).
func createdId(data string) (string, bool) {
	if !strings.HasSuffix(data, `"action":"create"}`) {
		return "", false
	}
	_, rest, ok := strings.Cut(data, `"id":"`)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, `"`)
	return id, ok
}

func openScaleSubscriber(client *http.Client, base, token string, customer bool, d *deliveries, leaked *atomic.Int64) (*subscriber, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/realtime", nil)
	res, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	connected := make(chan string, 1)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 4<<10), 1<<20)
		var name, data string
		first := true
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				name = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				data = strings.TrimSpace(line[5:])
			case line == "":
				if first {
					connected <- data
					first = false
				} else if name == "tickets/*" {
					at := time.Now()
					if customer {
						leaked.Add(1)
						break
					}
					if id, ok := createdId(data); ok {
						d.add(id, at)
					}
				}
				name, data = "", ""
			}
		}
	}()
	var first string
	select {
	case first = <-connected:
	case <-time.After(60 * time.Second):
		cancel()
		return nil, fmt.Errorf("no PB_CONNECT")
	}
	var connect struct {
		ClientId string `json:"clientId"`
	}
	if err := json.Unmarshal([]byte(first), &connect); err != nil || connect.ClientId == "" {
		cancel()
		return nil, fmt.Errorf("bad PB_CONNECT %q", first)
	}
	topics := []string{"tickets/*", "adminsRoom"}
	if customer {
		topics = []string{"tickets/*"}
	}
	body, _ := json.Marshal(map[string]any{"clientId": connect.ClientId, "subscriptions": topics})
	sreq, _ := http.NewRequest(http.MethodPost, base+"/api/realtime", bytes.NewReader(body))
	sreq.Header.Set("Content-Type", "application/json")
	sreq.Header.Set("Authorization", "Bearer "+token)
	sres, err := client.Do(sreq)
	if err != nil {
		cancel()
		return nil, err
	}
	msg, _ := io.ReadAll(io.LimitReader(sres.Body, 512))
	sres.Body.Close()
	if sres.StatusCode != http.StatusNoContent {
		cancel()
		return nil, fmt.Errorf("subscribe: status %d: %s", sres.StatusCode, msg)
	}
	return &subscriber{cancel: cancel}, nil
}
