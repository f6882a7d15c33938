package sqlite

import "posthorn/internal/store"

// Flags are stored as one text column in the normal form both backends share (store/flags.go:
// store.NormalizeFlags and its companions); these are their names in this package.

func normalizeFlags(flags []string) ([]string, error) { return store.NormalizeFlags(flags) }

func hasFlag(flags []string, f string) bool { return store.HasFlag(flags, f) }

func applyFlags(old []string, op store.FlagOp, given []string) ([]string, bool) {
	return store.ApplyFlags(old, op, given)
}

func splitFlags(s string) []string { return store.SplitFlags(s) }

func joinFlags(flags []string) string { return store.JoinFlags(flags) }
