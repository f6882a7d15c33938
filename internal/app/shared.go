package app

import (
	"os"
	"path/filepath"

	"posthorn/internal/config"
	"posthorn/internal/store"
)

// sharedState returns the throttle counts and leases of st when several nodes may share it
// (store.SharedStore), for the login throttling and the POP3 maildrop locks; nil for a store of
// one process (SQLite), where the services' memory is the authority and costs no write. The
// singleton jobs take their leases from any store that keeps them (lease.Runner), as one node
// alone takes its lease at once.
func sharedState(st store.Store) (store.ThrottleStore, store.Leases) {
	sh, ok := st.(store.SharedStore)
	if !ok || !sh.SharedByNodes() {
		return nil, nil
	}
	ts, _ := st.(store.ThrottleStore)
	ls, _ := st.(store.Leases)
	return ts, ls
}

// nodeName names this node in the leases of singleton jobs: its host name and data directory.
// It is the same after a restart, so a node that crashed holding a lease takes it back at once
// instead of waiting out its time to live (a daily job's run could fall in that wait), and it
// differs between nodes, which run on different hosts or from different directories.
func nodeName(cfg config.Config) string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		dir = cfg.DataDir
	}
	return host + ":" + dir
}
