package backup

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Scheduled archives (Job) are named after their time, in UTC, and an incremental one after
// its base's time too, so that a listing of the directory says what each one needs without
// reading it:
//
//	posthorn-20261207T030000Z-full.tar.zst
//	posthorn-20261208T030000Z-incr-20261207T030000Z.tar.zst
const nameTime = "20060102T150405Z"

var archiveName = regexp.MustCompile(`^posthorn-(\d{8}T\d{6}Z)-(full|incr-(\d{8}T\d{6}Z))\.tar\.zst$`)

// Archive is a scheduled archive, as its name describes it.
type Archive struct {
	Name    string
	Created time.Time
	Full    bool
	Base    time.Time // the Created of the archive an incremental one was made from
}

// ArchiveName is the file name of a scheduled archive made at created, from the archive
// made at base (zero: a full archive).
func ArchiveName(created, base time.Time) string {
	kind := "full"
	if !base.IsZero() {
		kind = "incr-" + base.UTC().Format(nameTime)
	}
	return "posthorn-" + created.UTC().Format(nameTime) + "-" + kind + ".tar.zst"
}

// ParseArchiveName returns what the name of a scheduled archive says; ok is false for any
// other name.
func ParseArchiveName(name string) (Archive, bool) {
	m := archiveName.FindStringSubmatch(name)
	if m == nil {
		return Archive{}, false
	}
	created, err := time.Parse(nameTime, m[1])
	if err != nil {
		return Archive{}, false
	}
	a := Archive{Name: name, Created: created, Full: m[2] == "full"}
	if !a.Full {
		if a.Base, err = time.Parse(nameTime, m[3]); err != nil || !a.Base.Before(created) {
			return Archive{}, false
		}
	}
	return a, true
}

// ListArchives returns the scheduled archives in dir, newest first; other files are left out.
func ListArchives(dir string) ([]Archive, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Archive
	for _, e := range entries {
		if a, ok := ParseArchiveName(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, a)
		}
	}
	sortNewestFirst(out)
	return out, nil
}

func sortNewestFirst(archives []Archive) {
	slices.SortFunc(archives, func(a, b Archive) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
}

// Keep applies the retention rules to archives and returns the names of those to keep, newest
// first; the others may be removed:
//
//   - the newest archive, always;
//   - the newest archive of each of the keepDaily most recent calendar days that have one;
//   - the newest full archive of each of the keepWeekly most recent ISO weeks that have one
//     (full ones, as a weekly archive should stand alone);
//   - the base of every archive kept, and its base, down to the full archive: a kept
//     incremental is never left without the archives it relies on.
//
// Days and weeks are those of loc.
func Keep(archives []Archive, keepDaily, keepWeekly int, loc *time.Location) []string {
	sorted := slices.Clone(archives)
	sortNewestFirst(sorted)
	keep := map[string]bool{}
	if len(sorted) > 0 {
		keep[sorted[0].Name] = true
	}
	newestOfEach(sorted, keepDaily, keep, func(a Archive) (string, bool) {
		return a.Created.In(loc).Format(time.DateOnly), true
	})
	newestOfEach(sorted, keepWeekly, keep, func(a Archive) (string, bool) {
		year, week := a.Created.In(loc).ISOWeek()
		return fmt.Sprintf("%d-W%02d", year, week), a.Full
	})
	byTime := map[time.Time][]Archive{}
	for _, a := range sorted {
		byTime[a.Created] = append(byTime[a.Created], a)
	}
	// Newest first, so that a base is reached after every archive that needs it.
	for _, a := range sorted {
		if !keep[a.Name] || a.Full {
			continue
		}
		for _, base := range byTime[a.Base] {
			keep[base.Name] = true
		}
	}
	var out []string
	for _, a := range sorted {
		if keep[a.Name] {
			out = append(out, a.Name)
		}
	}
	return out
}

// newestOfEach marks in keep the newest archive of each of the n most recent periods that
// have one; period returns an archive's period and whether it counts at all.
func newestOfEach(sorted []Archive, n int, keep map[string]bool, period func(Archive) (string, bool)) {
	seen := map[string]bool{}
	for _, a := range sorted {
		if len(seen) == n {
			return
		}
		p, ok := period(a)
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		keep[a.Name] = true
	}
}
