package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"
)

// The realtime abuse of issue 11: a customer opens 5 realtime connections,
// stops reading them, asks for 1,000 subscriptions on each (falling back
// to the most the server accepts), and sends 20 tickets of 10,000
// characters. Measured: the server's RSS growth and an unattacked agent's
// delivery latency, against the same run with no abuse.

// abuseResult is one scenario's figures.
type abuseResult struct {
	name                string
	rssBefore, rssAfter float64
	deliverP50, p99     time.Duration
	delivered, wanted   int
	subStatus           []int // status of the 1,000-topic request, then of the fallback
	createFailed        int
}

func runAbuse(base string, pid int, s *seeded) {
	var results []abuseResult
	for _, abusive := range []bool{false, true, false, true} {
		r, err := abuseScenario(base, pid, s, abusive)
		if err != nil {
			log.Fatalf("abuse scenario: %v", err)
		}
		log.Printf("%s: RSS %.0f → %.0f MiB, delivery p50 %s p99 %s (%d/%d), subscribe statuses %v",
			r.name, r.rssBefore, r.rssAfter, ms(r.deliverP50), ms(r.p99), r.delivered, r.wanted, r.subStatus)
		results = append(results, r)
		time.Sleep(2 * time.Second)
	}
	fmt.Printf("\n## Realtime abuse (issue 11) — %s, %d cores\n\n", time.Now().UTC().Format("2006-01-02"), nproc())
	fmt.Println("| run | RSS before | RSS after | growth | agent delivery p50 | p99 | delivered | 1,000-topic request | fallback |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range results {
		st := []string{"—", "—"}
		for i, v := range r.subStatus {
			st[i] = fmt.Sprint(v)
		}
		fmt.Printf("| %s | %.0f MiB | %.0f MiB | %+.0f MiB | %s | %s | %d/%d | %s | %s |\n",
			r.name, r.rssBefore, r.rssAfter, r.rssAfter-r.rssBefore, ms(r.deliverP50), ms(r.p99), r.delivered, r.wanted, st[0], st[1])
	}
}

func abuseScenario(base string, pid int, s *seeded, abusive bool) (abuseResult, error) {
	r := abuseResult{name: "no abuse"}
	if abusive {
		r.name = "5 stalled connections × 1,000 subscriptions"
	}
	r.rssBefore = rssMiB(pid)
	client := &http.Client{}
	d := &deliveries{seen: map[string][]time.Time{}}
	agent, err := openSubscriber(client, base, s.adminToken, d)
	if err != nil {
		return r, err
	}
	defer agent.cancel()

	if abusive {
		for range 5 {
			stop, statuses, err := stalledSubscriber(base, s.customerToken)
			if err != nil {
				return r, err
			}
			defer stop()
			r.subStatus = statuses
		}
	}

	// 20 big tickets among 40 small ones, one every 50 ms
	type sent struct {
		id string
		at time.Time
	}
	var all []sent
	for i := range 60 {
		content := fmt.Sprintf("abuse bench ticket %d", i)
		if i%3 == 0 {
			content = fmt.Sprintf("%05d", i) + strings.Repeat("x", 9995)
		}
		body, _ := json.Marshal(map[string]string{"customerId": s.customerId, "ticketContent": content})
		req, _ := http.NewRequest(http.MethodPost, base+"/api/collections/tickets/records", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.customerToken)
		at := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return r, err
		}
		var created struct {
			Id string `json:"id"`
		}
		json.NewDecoder(res.Body).Decode(&created)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			r.createFailed++
		} else {
			all = append(all, sent{created.Id, at})
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	r.rssAfter = rssMiB(pid)
	var deliver []time.Duration
	d.mu.Lock()
	for _, x := range all {
		for _, at := range d.seen[x.id] {
			deliver = append(deliver, at.Sub(x.at))
		}
	}
	d.mu.Unlock()
	r.wanted, r.delivered = len(all), len(deliver)
	if len(deliver) > 0 {
		r.deliverP50, r.p99 = pct(deliver, 50), pct(deliver, 99)
	}
	return r, nil
}

// stalledSubscriber opens a realtime connection that reads PB_CONNECT and
// then nothing, asks for 1,000 subscriptions to tickets/* that differ by
// their options and, if refused, for as many as the server accepts (50).
// It returns the statuses of the two requests.
func stalledSubscriber(base, token string) (func(), []int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/realtime", nil)
	res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	stop := func() { cancel(); res.Body.Close() }
	br := bufio.NewReader(res.Body)
	clientId := ""
	for clientId == "" {
		line, err := br.ReadString('\n')
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("no PB_CONNECT: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data:"); ok {
			var c struct {
				ClientId string `json:"clientId"`
			}
			json.Unmarshal([]byte(strings.TrimSpace(data)), &c)
			clientId = c.ClientId
		}
	}
	// from here on nobody reads res.Body
	var statuses []int
	for _, n := range []int{1000, 50} {
		topics := make([]string, n)
		for i := range topics {
			topics[i] = fmt.Sprintf(`tickets/*?options={"query":{"n":"%d-%d"}}`, n, i)
		}
		body, _ := json.Marshal(map[string]any{"clientId": clientId, "subscriptions": topics})
		sreq, _ := http.NewRequest(http.MethodPost, base+"/api/realtime", bytes.NewReader(body))
		sreq.Header.Set("Content-Type", "application/json")
		sreq.Header.Set("Authorization", "Bearer "+token)
		sres, err := http.DefaultClient.Do(sreq)
		if err != nil {
			stop()
			return nil, nil, err
		}
		sres.Body.Close()
		statuses = append(statuses, sres.StatusCode)
		if sres.StatusCode == http.StatusNoContent {
			break
		}
	}
	return stop, statuses, nil
}
