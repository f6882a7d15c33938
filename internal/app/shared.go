package app

import "posthorn/internal/store"

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
