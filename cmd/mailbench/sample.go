package main

// mailbench sample: the message an inbound filter has real work on, and the DNS records that
// authenticate it, so that a benchmark runs every check (SPF, iprev, DKIM, DMARC, the spam
// classifier, the attachment policy, a virus scan) against answers from mailbench dns.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/filter/filtertest"
)

// sampleOptions are the flags of mailbench sample.
type sampleOptions struct {
	sizes []int
	dir   string // where the messages and the zone are written
}

func newSampleCommand() *cobra.Command {
	o := sampleOptions{sizes: []int{4096}}
	cmd := &cobra.Command{
		Use:   "sample --dir DIR [--size N]...",
		Short: "Write DKIM-signed newsletters with an attachment and the DNS records that authenticate them",
		Long: "sample writes to DIR/sample-SIZE.eml, for each --size, a newsletter of about SIZE bytes\n" +
			"from " + filtertest.Sender + " (a text part and a base64 PDF attachment), signed with fresh\n" +
			"RSA and Ed25519 DKIM keys (RFC 6376), and to DIR/zone.txt the records that authenticate\n" +
			"them, in zone-file syntax, one a line: SPF and DMARC of remote.example, the DKIM keys, and\n" +
			"the PTR and A records of mail.remote.example for client " + filtertest.ClientIP + ". Serve the\n" +
			"records with mailbench dns --record, and send a message with mailbench smtp --message.",
		Example: "  mailbench sample --dir /tmp/bench --size 4096 --size 102400",
		Args:    cobra.NoArgs,
		RunE:    func(*cobra.Command, []string) error { return writeSample(o) },
	}
	f := cmd.Flags()
	f.IntSliceVar(&o.sizes, "size", o.sizes, "approximate message size in bytes (repeatable)")
	f.StringVar(&o.dir, "dir", "", "directory to write the messages and zone.txt to")
	if err := cmd.MarkFlagRequired("dir"); err != nil {
		panic(err) // the flag name above is misspelt
	}
	return cmd
}

func writeSample(o sampleOptions) error {
	for _, size := range o.sizes {
		if size < 1 || size > maxMessageSize {
			return fmt.Errorf("--size %d: must be between 1 and %d", size, maxMessageSize)
		}
	}
	domain, err := filtertest.NewDomain()
	if err != nil {
		return runFailure{err}
	}
	for _, size := range o.sizes {
		msg, err := domain.Sign(filtertest.Newsletter(size))
		if err != nil {
			return runFailure{err}
		}
		if err := os.WriteFile(filepath.Join(o.dir, fmt.Sprintf("sample-%d.eml", size)), msg, 0o644); err != nil {
			return runFailure{fmt.Errorf("write message: %w", err)}
		}
	}
	zone, err := domain.Resolver.Zone()
	if err != nil {
		return runFailure{err}
	}
	if err := os.WriteFile(filepath.Join(o.dir, "zone.txt"), []byte(strings.Join(zone, "\n")+"\n"), 0o644); err != nil {
		return runFailure{fmt.Errorf("write zone: %w", err)}
	}
	return nil
}
