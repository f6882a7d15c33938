package main

// mailbench dns: a small authoritative DNS server on loopback, so that a server under test
// resolves the names of a benchmark (the sender's SPF and DMARC records, the client's PTR)
// from it instead of the machine's resolver, whose answers, timeouts and dropped concurrent
// queries would be measured otherwise.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	mdns "github.com/miekg/dns"
	"github.com/spf13/cobra"
)

// dnsOptions are the flags of mailbench dns.
type dnsOptions struct {
	listen  string
	records []string
}

func newDNSCommand() *cobra.Command {
	var o dnsOptions
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Serve a small DNS zone on loopback, for a server under test to resolve from",
		Long: "dns answers DNS queries over UDP and TCP on --listen from the records given with\n" +
			"--record, in zone-file syntax, e.g. --record 'sender.example. 300 IN TXT \"v=spf1 -all\"'.\n" +
			"A name without records gets NXDOMAIN, a name with records but none of the asked type an\n" +
			"empty answer, as an authoritative server gives them (RFC 1034 §4.3.2). It prints\n" +
			"\"listening on ADDR\" once it serves (with port 0, ADDR names the port chosen) and runs\n" +
			"until SIGINT or SIGTERM.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDNS(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on, for UDP and TCP")
	f.StringArrayVar(&o.records, "record", nil, "a record in zone-file syntax (repeatable)")
	return cmd
}

// zone is the records served, by lower-case owner name.
type zone map[string][]mdns.RR

func newZone(records []string) (zone, error) {
	z := zone{}
	for _, text := range records {
		rr, err := mdns.NewRR(text)
		if err != nil {
			return nil, fmt.Errorf("--record %q: %w", text, err)
		}
		if rr == nil {
			return nil, fmt.Errorf("--record %q: no record", text)
		}
		name := strings.ToLower(rr.Header().Name)
		z[name] = append(z[name], rr)
	}
	return z, nil
}

// ServeDNS answers one query from the zone.
func (z zone) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	if len(req.Question) != 1 {
		m.SetRcode(req, mdns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	m.SetReply(req)
	m.Authoritative = true
	rrs, ok := z[strings.ToLower(q.Name)]
	if !ok {
		m.Rcode = mdns.RcodeNameError
	}
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Qtype || q.Qtype == mdns.TypeANY {
			m.Answer = append(m.Answer, rr)
		}
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size) // sets TC when the answer does not fit (RFC 1035 §4.2.1)
	}
	_ = w.WriteMsg(m)
}

func runDNS(ctx context.Context, o dnsOptions, stdout io.Writer) error {
	z, err := newZone(o.records)
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", o.listen)
	if err != nil {
		return runFailure{err}
	}
	defer pc.Close()
	// TCP on the same port as UDP (RFC 7766 §5: a server answers on both).
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		return runFailure{err}
	}
	defer ln.Close()
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	udp := &mdns.Server{PacketConn: pc, Handler: z, NotifyStartedFunc: notify}
	tcp := &mdns.Server{Listener: ln, Handler: z, NotifyStartedFunc: notify}
	errs := make(chan error, 2)
	go func() { errs <- udp.ActivateAndServe() }()
	go func() { errs <- tcp.ActivateAndServe() }()
	for range 2 {
		select {
		case <-started:
		case err := <-errs:
			return runFailure{err}
		}
	}
	fmt.Fprintf(stdout, "listening on %s\n", pc.LocalAddr())
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	serr := errors.Join(udp.ShutdownContext(context.Background()), tcp.ShutdownContext(context.Background()))
	if err != nil {
		return runFailure{err}
	}
	if serr != nil && !errors.Is(serr, context.Canceled) {
		return runFailure{serr}
	}
	return nil
}
