package backup

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// archivesOf reads a compact list: "12-07F" is a full archive of 2026-12-07 at 03:00 UTC,
// "12-08I12-07" an incremental of 2026-12-08 from the one of 12-07, "12-08@15I12-08" one at
// 15:00 from the one of the same day at 03:00.
func archivesOf(t *testing.T, specs string) []Archive {
	t.Helper()
	at := func(s string) time.Time {
		day, hour, ok := strings.Cut(s, "@")
		if !ok {
			hour = "03"
		}
		tm, err := time.Parse("2006-01-02T15", "2026-"+day+"T"+hour)
		if err != nil {
			t.Fatalf("spec %q: %v", s, err)
		}
		return tm
	}
	var out []Archive
	for _, spec := range strings.Fields(specs) {
		if created, ok := strings.CutSuffix(spec, "F"); ok {
			out = append(out, Archive{Name: spec, Created: at(created), Full: true})
			continue
		}
		created, base, ok := strings.Cut(spec, "I")
		if !ok {
			t.Fatalf("spec %q: neither F nor I", spec)
		}
		out = append(out, Archive{Name: spec, Created: at(created), Base: at(base)})
	}
	return out
}

func TestKeep(t *testing.T) {
	for _, c := range []struct {
		name          string
		archives      string
		daily, weekly int
		want          string // newest first
	}{
		{"nothing", "", 7, 4, ""},
		{"the newest always", "12-01F 12-02F", 0, 0, "12-02F"},
		{"daily: the newest of each day", "12-01F 12-02F 12-02@15F 12-03F", 2, 0, "12-03F 12-02@15F"},
		{"daily: days without an archive do not count", "11-20F 11-25F 12-01F", 2, 0, "12-01F 11-25F"},
		{"weekly: the newest full archive of each ISO week",
			// 11-23, 11-30 and 12-07 are Mondays: three weeks.
			"11-23F 11-29F 11-30F 12-06F 12-07F", 1, 3, "12-07F 12-06F 11-29F"},
		{"weekly: incrementals do not count",
			"11-29F 11-30I11-29 12-05I11-30 12-06I12-05 12-07F", 1, 2, "12-07F 11-29F"},
		{"a kept incremental keeps its chain down to the full archive",
			"11-30F 12-01I11-30 12-02I12-01 12-03I12-02", 1, 0, "12-03I12-02 12-02I12-01 12-01I11-30 11-30F"},
		{"a week of incrementals and a new full: the old chain goes",
			"11-30F 12-01I11-30 12-02I12-01 12-07F 12-08I12-07", 2, 0, "12-08I12-07 12-07F"},
		{"daily keeps reach into the old chain",
			"11-30F 12-01I11-30 12-02I12-01 12-03F 12-04I12-03", 3, 0,
			"12-04I12-03 12-03F 12-02I12-01 12-01I11-30 11-30F"},
		{"weekly and daily together, the chains of both",
			"11-16F 11-17I11-16 11-23F 11-24I11-23 11-30F 12-01I11-30 12-02I12-01", 2, 2,
			"12-02I12-01 12-01I11-30 11-30F 11-23F"},
		{"a missing base keeps nothing more", "12-05I12-04 12-06I12-05", 1, 0, "12-06I12-05 12-05I12-04"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Keep(archivesOf(t, c.archives), c.daily, c.weekly, time.UTC)
			if want := strings.Fields(c.want); !slices.Equal(got, want) {
				t.Errorf("Keep(%s, daily %d, weekly %d) = %v, want %v", c.archives, c.daily, c.weekly, got, want)
			}
		})
	}
}

// TestKeepTimeZone: days are the location's: 23:30 UTC is the next day in Berlin.
func TestKeepTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	archives := archivesOf(t, "12-01@22F 12-01@23F")
	if got := Keep(archives, 2, 0, time.UTC); len(got) != 1 {
		t.Errorf("UTC: %v, want one day's newest", got)
	}
	if got := Keep(archives, 2, 0, berlin); len(got) != 2 {
		t.Errorf("Berlin: %v, want both (23:00 UTC is 00:00 the next day)", got)
	}
}

func TestArchiveNames(t *testing.T) {
	created := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	base := created.AddDate(0, 0, -1)
	for _, c := range []struct {
		base time.Time
		name string
	}{
		{time.Time{}, "posthorn-20261208T030000Z-full.tar.zst"},
		{base, "posthorn-20261208T030000Z-incr-20261207T030000Z.tar.zst"},
	} {
		name := ArchiveName(created.In(time.FixedZone("X", 3600)), c.base)
		if name != c.name {
			t.Errorf("ArchiveName = %q, want %q", name, c.name)
		}
		a, ok := ParseArchiveName(name)
		if !ok || !a.Created.Equal(created) || a.Full != c.base.IsZero() || !a.Base.Equal(c.base) {
			t.Errorf("ParseArchiveName(%q) = %+v, %v", name, a, ok)
		}
	}
	for _, bad := range []string{"posthorn-20261208T030000Z-full.tar.zst.partial", "backup.tar.zst",
		"posthorn-20261208T030000Z-incr-20261209T030000Z.tar.zst", "posthorn-20261308T030000Z-full.tar.zst"} {
		if a, ok := ParseArchiveName(bad); ok {
			t.Errorf("ParseArchiveName(%q) = %+v, want not an archive name", bad, a)
		}
	}
}
