package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// target is one HTTP request shape to load.
type target struct {
	name   string
	method string
	path   string
	token  string
	body   string // a %d in it is replaced by a per-request counter
}

// result is what one wrk run measured.
type result struct {
	requests int
	rps      float64
	p50, p99 time.Duration
	non2xx   int
	cpuPerRq time.Duration // server CPU time per request
}

// runWrk loads t for d with c connections (one wrk thread) and reads the
// server's CPU time around it.
func runWrk(baseURL string, t target, d time.Duration, c int, pid int) (result, error) {
	script := fmt.Sprintf(`
wrk.method = %q
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = %q
local body = %q
local n = 0
request = function()
  n = n + 1
  local b = body
  if b ~= "" then b = string.gsub(b, "%%%%d", tostring(n)) end
  return wrk.format(nil, nil, nil, b ~= "" and b or nil)
end
`, t.method, "Bearer "+t.token, t.body)
	f := filepath.Join(os.TempDir(), "portal-bench.lua")
	if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
		return result{}, err
	}
	cpu0 := cpuTime(pid)
	out, err := exec.Command("wrk", "-t1", fmt.Sprintf("-c%d", c), fmt.Sprintf("-d%ds", int(d.Seconds())), "--timeout", "60s",
		"--latency", "-s", f, baseURL+t.path).CombinedOutput()
	cpu := cpuTime(pid) - cpu0
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	r := parseWrk(string(out))
	if r.requests > 0 {
		r.cpuPerRq = cpu / time.Duration(r.requests)
	}
	return r, nil
}

var (
	reRequests = regexp.MustCompile(`(\d+) requests in`)
	reRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	rePct      = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
)

func parseWrk(out string) result {
	var r result
	if m := reRequests.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(m[1])
	}
	if m := reRPS.FindStringSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	for _, m := range rePct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	return r
}

// cpuTime is the user+system CPU time of a process so far.
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// rssMiB is a process's resident memory.
func rssMiB(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}
