package main

import (
	"testing"
	"time"
)

func TestMessageSizes(t *testing.T) {
	const to = "u1@test.example"
	for _, size := range []int{1, 100, 500, 4096, 65536, 1 << 20} {
		tmpl := newMessageTemplate("run1", "bench@example.org", to, size)
		header := tmpl.appendHeader(nil, 7, to, time.Date(2025, 11, 25, 9, 5, 0, 0, time.UTC))
		data := append(header, tmpl.body...)
		msg := checkMessage(t, data, max(size, len(header)+bodyLineLength+2))
		if id := msg.Header.Get("Message-ID"); id != "<run1.7@example.org>" {
			t.Errorf("Message-ID %q, want <run1.7@example.org>", id)
		}
		if date := msg.Header.Get("Date"); date != "Tue, 25 Nov 2025 09:05:00 +0000" {
			t.Errorf("Date %q", date)
		}
	}
}

func TestMessageHeaderReusesBuffer(t *testing.T) {
	const to = "u1@test.example"
	tmpl := newMessageTemplate("run1", "bench@example.org", to, 4096)
	buf := tmpl.appendHeader(nil, 1, to, time.Now())
	allocs := testing.AllocsPerRun(100, func() {
		buf = tmpl.appendHeader(buf[:0], 123456, to, time.Now())
	})
	if allocs != 0 {
		t.Errorf("appendHeader allocates %v times per message with a reused buffer, want 0", allocs)
	}
}

func TestExpandRecipient(t *testing.T) {
	tests := []struct {
		template string
		n        int64
		want     string
	}{
		{"u1@test.example", 5, "u1@test.example"},
		{"u{n}@test.example", 0, "u0@test.example"},
		{"u{n}@test.example", 42, "u42@test.example"},
		{"u{n}@test.example", 1000, "u0@test.example"},
		{"u{n}@test.example", 123456, "u456@test.example"},
		{"{n}.{n}@test.example", 7, "7.7@test.example"},
	}
	for _, tt := range tests {
		if got := expandRecipient(tt.template, tt.n); got != tt.want {
			t.Errorf("expandRecipient(%q, %d) = %q, want %q", tt.template, tt.n, got, tt.want)
		}
	}
}
