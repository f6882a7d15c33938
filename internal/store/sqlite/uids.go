package sqlite

import (
	"strings"

	"posthorn/internal/store"
)

// maxInList is how many UIDs one `uid IN (...)` condition names: far below SQLite's limit on
// bound parameters, and large enough that a sparse set of a thousand UIDs takes two queries.
const maxInList = 500

// sortedUIDs is store.SortedUIDs: uids ascending, without duplicates and without 0.
func sortedUIDs(uids []uint32) []uint32 { return store.SortedUIDs(uids) }

// minRange is the length from which a run of consecutive UIDs is read by range rather than
// named in an IN list.
const minRange = 64

// forUIDChunks splits sorted, distinct uids into the conditions that select them and calls fn
// with each condition and its arguments: `uid BETWEEN ? AND ?` for each run of at least minRange
// consecutive UIDs (a sequence set like 1:100000 costs one range scan), and `uid IN (?, ...)`
// lists of at most maxInList for the others.
func forUIDChunks(uids []uint32, fn func(cond string, args []any) error) error {
	var in []any
	flush := func() error {
		if len(in) == 0 {
			return nil
		}
		err := fn(`uid IN (?`+strings.Repeat(`, ?`, len(in)-1)+`)`, in)
		in = nil
		return err
	}
	for len(uids) > 0 {
		run := 1
		for run < len(uids) && uids[run] == uids[run-1]+1 {
			run++
		}
		if run >= minRange {
			if err := flush(); err != nil {
				return err
			}
			if err := fn(`uid BETWEEN ? AND ?`, []any{uids[0], uids[run-1]}); err != nil {
				return err
			}
			uids = uids[run:]
			continue
		}
		for _, u := range uids[:run] {
			in = append(in, u)
			if len(in) == maxInList {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		uids = uids[run:]
	}
	return flush()
}
