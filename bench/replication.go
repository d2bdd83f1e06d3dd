package main

import (
	"fmt"
	"log"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pocketbase/dbx"
)

// replicationBench measures POST /sendTicket with the replication off and
// on (interleaved A/B rounds on the same data dir, one server process per
// run), then the time to restore the replica into a new data dir.
func replicationBench(bin, work, dataDir string, s *seeded, tickets int, d time.Duration, conns, rounds int, interval time.Duration) {
	replica := "file://" + filepath.Join(work, "replica")
	send := target{"POST /sendTicket", "POST", "/sendTicket", s.customerToken, `{"ticketContent":"bench ticket %d"}`}
	var off, on []result
	for round := range rounds {
		for _, replicate := range []bool{false, true} {
			port := freePort()
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			args := []string{"serve", "--http=127.0.0.1:" + fmt.Sprint(port), "--dir=" + dataDir}
			if replicate {
				args = append(args, "--replica="+replica)
				if interval > 0 {
					args = append(args, "--replicaInterval="+interval.String())
				}
			}
			srv := exec.Command(bin, args...)
			if err := srv.Start(); err != nil {
				log.Fatal(err)
			}
			waitUp(base)
			settle(srv.Process.Pid)
			res, err := runWrk(base, send, d, conns, srv.Process.Pid)
			if err != nil {
				log.Fatal(err)
			}
			_ = srv.Process.Signal(syscall.SIGTERM)
			_ = srv.Wait()
			log.Printf("round %d replication %-5v %8.0f req/s  p50 %-8s p99 %-8s non-2xx %d", round, replicate, res.rps, res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond), res.non2xx)
			if replicate {
				on = append(on, res)
			} else {
				off = append(off, res)
			}
		}
	}

	restored := filepath.Join(work, "restored")
	began := time.Now()
	if out, err := exec.Command(bin, "restore", "--replica", replica, "--dir", restored).CombinedOutput(); err != nil {
		log.Fatalf("restore: %v\n%s", err, out)
	}
	took := time.Since(began)
	db, err := dbx.Open("sqlite", filepath.Join(restored, "data.db"))
	if err != nil {
		log.Fatal(err)
	}
	var count int
	if err := db.NewQuery("SELECT COUNT(*) FROM tickets").Row(&count); err != nil {
		log.Fatal(err)
	}
	db.Close()

	a, b := mean(off), mean(on)
	fmt.Printf("\n## Replication cost — %s, %d seeded tickets, wrk -t1 -c%d, %d×%s A/B rounds, %d cores\n\n",
		time.Now().UTC().Format("2006-01-02"), tickets, conns, rounds, d, nproc())
	fmt.Println("| POST /sendTicket | req/s | p50 | p99 | CPU/req |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: |")
	fmt.Printf("| replication off (PocketBase alone) | %.0f | %s | %s | %s |\n", a.rps, ms(a.p50), ms(a.p99), us(a.cpuPerRq))
	fmt.Printf("| replication on (file replica, interval %s) | %.0f | %s | %s | %s |\n", intervalName(interval), b.rps, ms(b.p50), ms(b.p99), us(b.cpuPerRq))
	if a.rps > 0 {
		fmt.Printf("\nThroughput with replication: %.2f× without.\n", b.rps/a.rps)
	}
	fmt.Printf("Restore of the replica (%d tickets) into a new data dir: %s, integrity check included.\n", count, took.Round(time.Millisecond))
}

func intervalName(d time.Duration) string {
	if d == 0 {
		return "default"
	}
	return d.String()
}

// settle waits (up to a minute) until the server is idle: a replicated
// start first ships a snapshot of the whole database, which is start-up
// work, not the cost of a write.
func settle(pid int) {
	time.Sleep(time.Second)
	for range 60 {
		before := cpuTime(pid)
		time.Sleep(time.Second)
		if cpuTime(pid)-before < 50*time.Millisecond {
			return
		}
	}
}
