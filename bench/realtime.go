package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// subscriber is one admin listening on /api/realtime.
type subscriber struct {
	cancel context.CancelFunc
}

// deliveries records when each subscriber first saw each ticket.
type deliveries struct {
	mu   sync.Mutex
	seen map[string][]time.Time // ticket id -> receive times
}

func (d *deliveries) add(ticket string, at time.Time) {
	d.mu.Lock()
	d.seen[ticket] = append(d.seen[ticket], at)
	d.mu.Unlock()
}

// subscribe opens n SSE clients with the given tokens, each subscribed to
// tickets/* and adminsRoom, and returns once all are subscribed.
func subscribe(baseURL string, tokens []string, d *deliveries) ([]*subscriber, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	subs := make([]*subscriber, len(tokens))
	errs := make(chan error, len(tokens))
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := openSubscriber(client, baseURL, tok, d)
			if err != nil {
				errs <- err
				return
			}
			subs[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeAll(subs)
		return nil, err
	}
	return subs, nil
}

func closeAll(subs []*subscriber) {
	for _, s := range subs {
		if s != nil {
			s.cancel()
		}
	}
}

// openSubscriber connects one agent subscribed to tickets/* and adminsRoom
// (bench/scale.go's subscriber, as an agent).
func openSubscriber(client *http.Client, baseURL, token string, d *deliveries) (*subscriber, error) {
	return openScaleSubscriber(client, baseURL, token, false, d, nil)
}

// fanout is the outcome of sending tickets while n admins listen.
type fanout struct {
	subscribers        int
	sendP50, sendP99   time.Duration
	deliverP50, delP99 time.Duration
	deliverMax         time.Duration
	delivered, wanted  int
}

// measureFanout sends `count` tickets one after another as the customer and
// measures each request's latency and every subscriber's delivery latency.
func measureFanout(baseURL string, s *seeded, subs, count int, d *deliveries) (fanout, error) {
	out := fanout{subscribers: subs}
	client := &http.Client{}
	var send, deliver []time.Duration
	type sent struct {
		id string
		at time.Time
	}
	var all []sent
	for i := range count {
		body := fmt.Sprintf(`{"ticketContent":"fan-out ticket %d"}`, i)
		req, _ := http.NewRequest(http.MethodPost, baseURL+"/sendTicket", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.customerToken)
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return out, err
		}
		var created struct {
			TicketId string `json:"ticketId"`
		}
		json.NewDecoder(res.Body).Decode(&created)
		res.Body.Close()
		send = append(send, time.Since(t0))
		if res.StatusCode != http.StatusCreated {
			return out, fmt.Errorf("sendTicket: status %d", res.StatusCode)
		}
		all = append(all, sent{created.TicketId, t0})
		time.Sleep(50 * time.Millisecond)
	}
	// give the last deliveries time to arrive
	time.Sleep(3 * time.Second)
	d.mu.Lock()
	for _, x := range all {
		for _, at := range d.seen[x.id] {
			deliver = append(deliver, at.Sub(x.at))
		}
	}
	d.mu.Unlock()
	out.wanted = subs * count
	out.delivered = len(deliver)
	out.sendP50, out.sendP99 = pct(send, 50), pct(send, 99)
	if len(deliver) > 0 {
		out.deliverP50, out.delP99, out.deliverMax = pct(deliver, 50), pct(deliver, 99), pct(deliver, 100)
	}
	return out, nil
}

func pct(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1]
}
