package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100) // 1ms .. 100ms
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 100, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2), 51, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 75, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 30, 20 * time.Millisecond}, // the nearest-rank example
		{ms(15, 20, 35, 40, 50), 40, 20 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 50, 35 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 100, 50 * time.Millisecond},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 90, 90 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 99.5, 100 * time.Millisecond},
		{hundred, 100, 100 * time.Millisecond},
		{hundred, 0.1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestAddTallies(t *testing.T) {
	var a, b tally
	for _, d := range []int{40, 10, 30} {
		a.accepted(1000, time.Duration(d)*time.Millisecond)
	}
	b.accepted(1000, 20*time.Millisecond)
	b.refused, b.errors, b.connections, a.connections = 2, 1, 1, 1

	var s summary
	s.addTallies([]tally{a, b}, 2*time.Second)
	if s.Sent != 4 || s.Refused != 2 || s.Errors != 1 || s.Connections != 2 {
		t.Errorf("sent %d, refused %d, errors %d, connections %d; want 4, 2, 1, 2", s.Sent, s.Refused, s.Errors, s.Connections)
	}
	if s.MessagesPerSecond != 2 || s.MBPerSecond != 0.002 {
		t.Errorf("%v messages/s, %v MB/s; want 2, 0.002", s.MessagesPerSecond, s.MBPerSecond)
	}
	want := latencySummary{P50: 20, P90: 40, P99: 40, Max: 40}
	if s.LatencyMS != want {
		t.Errorf("latencies %+v, want %+v", s.LatencyMS, want)
	}
	if !s.failed() {
		t.Error("a run with refusals is not failed")
	}
}
