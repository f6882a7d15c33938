// Package schema reads a store backend's schema migrations: files migrations/NNNN_name.sql in
// the backend's embedded file system, applied in version order. Each backend (store/sqlite,
// store/postgres) applies them its own way; the rule of the files is here once.
package schema

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Step is one schema migration: migrations/NNNN_name.sql.
type Step struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations of fsys (its migrations/*.sql) in version order. Versions must
// run 1, 2, 3... without gap, so that a file left out of a build cannot go unnoticed.
func Load(fsys fs.FS) ([]Step, error) {
	paths, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Step
	for _, p := range paths {
		base := strings.TrimSuffix(path.Base(p), ".sql")
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", p)
		}
		text, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		out = append(out, Step{Version: version, Name: name, SQL: string(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d", m.Version, m.Name, i+1)
		}
	}
	return out, nil
}
