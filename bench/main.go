// Command bench measures the portal's routes side by side with PocketBase's
// own record API on the same server, data and machine: it builds the
// server, seeds tickets, loads each pair of requests with wrk in
// interleaved A/B/A/B rounds, measures ticket fan-out to subscribed admins,
// and prints one table.
//
//	GOTOOLCHAIN=go1.27.3 go run ./bench -tickets 100000
//	GOTOOLCHAIN=go1.27.3 go run ./bench -abuse -tickets 1000 -subscribers 0
//	GOTOOLCHAIN=go1.27.3 go run ./bench -scale 1000,5000,10000 -tickets 1000 -subscribers 0
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	tickets := flag.Int("tickets", 100_000, "tickets to seed")
	customers := flag.Int("customers", 2_000, "customers to seed")
	duration := flag.Duration("d", 5*time.Second, "length of one wrk run")
	conns := flag.Int("c", 8, "wrk connections")
	rounds := flag.Int("rounds", 2, "A/B rounds per pair")
	fanouts := flag.String("subscribers", "0,1000,5000", "admin subscriber counts for the fan-out phase")
	bin := flag.String("bin", "", "server binary (default: build one)")
	replicaInterval := flag.Duration("replica-interval", 0, "with -replication: serve --replicaInterval (0: the default)")
	replication := flag.Bool("replication", false, "measure /sendTicket with the replication off and on, and the restore, instead")
	abuse := flag.Bool("abuse", false, "measure only the realtime abuse of issue 11 (bench/abuse.go)")
	keep := flag.Bool("keep", false, "keep the data dir for a look afterwards")
	search := flag.Bool("search", false, "seed text and messages, and measure search (and /sendTicket with and without the index) instead")
	scale := flag.String("scale", "", "measure only realtime at scale (bench/scale.go) at these subscriber counts, e.g. 1000,5000,10000")
	scalePB := flag.String("scale-pb", "1000", "with -scale: the counts also measured with PocketBase's own broadcaster")
	scaleTickets := flag.Int("scale-tickets", 50, "with -scale: tickets sent per run")
	pprofAddr := flag.String("pprof", "", "with -scale: serve the portal server's profiler on this loopback address")
	subscriberChild := flag.Bool("scale-subscribers", false, "internal: be the scale benchmark's subscriber process (bench/scale_child.go)")
	flag.Parse()
	if *subscriberChild {
		runSubscriberChild()
		return
	}

	if _, err := exec.LookPath("wrk"); err != nil && !*abuse && *scale == "" {
		log.Fatal("wrk is needed: apt-get install wrk")
	}
	raiseFileLimit()

	work, err := os.MkdirTemp("", "portal-bench-")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		log.Printf("keeping %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	if *bin == "" {
		*bin = filepath.Join(work, "ticketportal")
		log.Printf("building %s", *bin)
		if out, err := exec.Command("go", "build", "-o", *bin, ".").CombinedOutput(); err != nil {
			log.Fatalf("build: %v\n%s", err, out)
		}
	}
	maxSubs, customerSubs := 0, 0
	for _, n := range parseInts(*fanouts) {
		maxSubs = max(maxSubs, n)
	}
	var text *textGen
	if *search {
		text = newTextGen()
		maxSubs = 0
	}
	for _, n := range parseInts(*scale) {
		maxSubs = max(maxSubs, n)
		customerSubs = max(customerSubs, n-n/10)
	}
	*customers = max(*customers, customerSubs+1)
	dataDir := filepath.Join(work, "pb_data")
	log.Printf("seeding %d tickets, %d customers, %d admins", *tickets, *customers, maxSubs+2)
	seedStart := time.Now()
	s, err := seed(dataDir, *tickets, *customers, maxSubs, customerSubs, text)
	if err != nil {
		log.Fatalf("seed: %v", err)
	}
	log.Printf("seeded in %s", time.Since(seedStart).Round(time.Second))
	if *replication {
		replicationBench(*bin, work, dataDir, s, *tickets, *duration, *conns, *rounds, *replicaInterval)
		return
	}

	if *scale != "" {
		runScale(*bin, dataDir, s, parseInts(*scale), parseInts(*scalePB), *scaleTickets, *pprofAddr)
		return
	}

	port := freePort()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	srv := exec.Command(*bin, "serve", "--http=127.0.0.1:"+fmt.Sprint(port), "--dir="+dataDir)
	srv.Stdout, srv.Stderr = nil, nil
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Process.Kill()
	waitUp(base)
	pid := srv.Process.Pid
	rssIdle := rssMiB(pid)
	if *abuse {
		runAbuse(base, pid, s)
		return
	}
	if *search {
		searchBench(base, dataDir, s, *tickets, *duration, *conns, *rounds, pid)
		return
	}

	q := func(filter, sort string) string {
		return "?" + url.Values{"filter": {filter}, "sort": {sort}, "perPage": {"10"}}.Encode()
	}
	records := "/api/collections/tickets/records"
	pairs := [][2]target{
		{
			{"POST /sendTicket", "POST", "/sendTicket", s.customerToken, `{"ticketContent":"bench ticket %d"}`},
			{"PB create ticket", "POST", records, s.customerToken, `{"customerId":"` + s.customerId + `","ticketContent":"bench ticket %d"}`},
		},
		{
			{"GET /getAllActiveTickets (exact total)", "GET", "/getAllActiveTickets?page=3&limit=10", s.adminToken, ""},
			{"PB list active, skipTotal", "GET", records + q("ticketStatus='active'", "-isHighPriority,-createdAt") + "&page=3&skipTotal=1", s.adminToken, ""},
		},
		{
			{"GET /getAllClosedTickets (exact total)", "GET", "/getAllClosedTickets?page=3&limit=10", s.superAdminToken, ""},
			{"PB list closed, skipTotal", "GET", records + q("ticketStatus='closed'", "-createdAt") + "&page=3&skipTotal=1", s.superAdminToken, ""},
		},
		{
			{"GET /getUserTickets (exact total)", "GET", "/getUserTickets?page=1&limit=10", s.customerToken, ""},
			{"PB list own, skipTotal", "GET", records + q("customerId='"+s.customerId+"'", "-createdAt") + "&skipTotal=1", s.customerToken, ""},
		},
		{
			{"GET /getAllActiveTickets (exact total)", "GET", "/getAllActiveTickets?page=3&limit=10", s.adminToken, ""},
			{"PB list active WITH total", "GET", records + q("ticketStatus='active'", "-isHighPriority,-createdAt") + "&page=3", s.adminToken, ""},
		},
		{
			{"POST /login", "POST", "/login", "", `{"userName":"customer1","password":"` + benchPassword + `"}`},
			{"PB auth-with-password", "POST", "/api/collections/users/auth-with-password", "", `{"identity":"customer1","password":"` + benchPassword + `"}`},
		},
	}

	type row struct {
		a, b     target
		ra, rb   []result
		rssAfter float64
	}
	var rows []row
	for _, p := range pairs {
		r := row{a: p[0], b: p[1]}
		for range *rounds {
			for i, t := range p {
				res, err := runWrk(base, t, *duration, *conns, pid)
				if err != nil {
					log.Fatalf("%s: %v", t.name, err)
				}
				log.Printf("%-40s %8.0f req/s  p50 %-8s p99 %-8s non-2xx %d", t.name, res.rps, res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond), res.non2xx)
				if i == 0 {
					r.ra = append(r.ra, res)
				} else {
					r.rb = append(r.rb, res)
				}
			}
		}
		rows = append(rows, r)
	}
	rssLoaded := rssMiB(pid)

	var fans []fanout
	for _, n := range parseInts(*fanouts) {
		d := &deliveries{seen: map[string][]time.Time{}}
		subs, err := subscribe(base, s.subscriberToks[:n], d)
		if err != nil {
			log.Fatalf("subscribe %d: %v", n, err)
		}
		time.Sleep(time.Second)
		f, err := measureFanout(base, s, n, 20, d)
		closeAll(subs)
		if err != nil {
			log.Fatalf("fan-out %d: %v", n, err)
		}
		f.subscribers = n
		fans = append(fans, f)
		log.Printf("fan-out %d subscribers: send p50 %s p99 %s, delivered %d/%d", n, f.sendP50, f.sendP99, f.delivered, f.wanted)
		time.Sleep(2 * time.Second)
	}
	rssPeak := rssMiB(pid)

	fmt.Printf("\n## Ticket Portal vs PocketBase's own API — %s, %d tickets, %d customers, wrk -t1 -c%d, %d×%s A/B rounds, %d cores\n\n",
		time.Now().UTC().Format("2006-01-02"), *tickets, *customers, *conns, *rounds, *duration, nproc())
	fmt.Println("| portal route | req/s | p50 | p99 | CPU/req | PocketBase API | req/s | p50 | p99 | CPU/req | req/s ratio |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		a, b := mean(r.ra), mean(r.rb)
		ratio := "— (no request finished in a run)"
		if b.requests > 0 && b.rps > 0 {
			ratio = fmt.Sprintf("%.2f×", a.rps/b.rps)
		}
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %.0f | %s | %s | %s | %s |\n",
			r.a.name+errNote(a), a.rps, ms(a.p50), ms(a.p99), us(a.cpuPerRq),
			r.b.name+errNote(b), b.rps, ms(b.p50), ms(b.p99), us(b.cpuPerRq), ratio)
	}
	fmt.Println("\n| admins subscribed (tickets/* + adminsRoom) | /sendTicket p50 | p99 | delivery p50 | p99 | max | delivered |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, f := range fans {
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %d/%d |\n", f.subscribers, ms(f.sendP50), ms(f.sendP99), ms(f.deliverP50), ms(f.delP99), ms(f.deliverMax), f.delivered, f.wanted)
	}
	fmt.Printf("\nServer RSS: %.0f MiB idle after start, %.0f MiB after the load runs, %.0f MiB after the fan-out runs.\n", rssIdle, rssLoaded, rssPeak)
}

func mean(rs []result) result {
	var out result
	for _, r := range rs {
		out.requests += r.requests
		out.rps += r.rps / float64(len(rs))
		out.p50 += r.p50 / time.Duration(len(rs))
		out.p99 += r.p99 / time.Duration(len(rs))
		out.cpuPerRq += r.cpuPerRq / time.Duration(len(rs))
		out.non2xx += r.non2xx
	}
	return out
}

func errNote(r result) string {
	if r.non2xx > 0 {
		return fmt.Sprintf(" (%d non-2xx!)", r.non2xx)
	}
	return ""
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func parseInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitUp(base string) {
	for range 200 {
		if res, err := http.Get(base + "/api/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatal("server did not start")
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func nproc() int {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	return max(1, strings.Count(string(raw), "processor\t:"))
}
