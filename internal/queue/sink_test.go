package queue

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// sink is a loopback SMTP server that records what it receives; reply decides each RCPT's
// answer from the recipient and how often it was offered before.
type sink struct {
	Addr  string // host:port
	reply func(rcpt string, seen int) *smtp.SMTPError

	mu    sync.Mutex
	conns int
	ids   map[*smtp.Conn]int // go-smtp starts a new session after STARTTLS: count connections
	txns  []txn
	seen  map[string]int
}

// txn is one accepted message transaction.
type txn struct {
	conn  int
	from  string
	rcpts []string
	data  string
	tls   bool
}

// startSink listens on addr ("127.0.0.1:0" or a fixed address) with STARTTLS offered when
// tlsConfig is set.
func startSink(t testing.TB, addr string, tlsConfig *tls.Config, reply func(string, int) *smtp.SMTPError,
	options ...func(*smtp.Server)) *sink {
	t.Helper()
	var l net.Listener
	if h, ok := held.LoadAndDelete(addr); ok {
		l = h.(net.Listener)
	} else {
		var err error
		if l, err = net.Listen("tcp", addr); err != nil {
			t.Fatal(err)
		}
	}
	s := &sink{Addr: l.Addr().String(), reply: reply, seen: map[string]int{}, ids: map[*smtp.Conn]int{}}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.TLSConfig = tlsConfig
	srv.AllowInsecureAuth = true
	srv.EnableREQUIRETLS = true
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range options {
		o(srv)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[c]
	if !ok {
		s.conns++
		id = s.conns
		s.ids[c] = id
	}
	return &sinkSession{sink: s, conn: id, c: c}, nil
}

// transactions returns a copy of what was accepted.
func (s *sink) transactions() []txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]txn(nil), s.txns...)
}

func (s *sink) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// received counts the accepted copies per recipient.
func (s *sink) received() map[string]int {
	out := map[string]int{}
	for _, t := range s.transactions() {
		for _, r := range t.rcpts {
			out[r]++
		}
	}
	return out
}

type sinkSession struct {
	sink  *sink
	conn  int
	c     *smtp.Conn
	from  string
	rcpts []string
}

func (ss *sinkSession) Reset()        { ss.from, ss.rcpts = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	seen := ss.sink.seen[to]
	ss.sink.seen[to]++
	ss.sink.mu.Unlock()
	if ss.sink.reply != nil {
		if err := ss.sink.reply(to, seen); err != nil {
			return err
		}
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.c.TLSConnectionState()
	ss.sink.mu.Lock()
	ss.sink.txns = append(ss.sink.txns, txn{conn: ss.conn, from: ss.from, rcpts: ss.rcpts, data: string(b), tls: isTLS})
	ss.sink.mu.Unlock()
	return nil
}

// byLocalPart answers like mailbench sink: "reject..." 550, "defer..." 451, "deferN..." 451 for
// the first N offers.
func byLocalPart(rcpt string, seen int) *smtp.SMTPError {
	local := strings.ToLower(rcpt[:strings.IndexByte(rcpt, '@')])
	switch {
	case strings.HasPrefix(local, "reject"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	case strings.HasPrefix(local, "defer2"):
		if seen < 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
	case strings.HasPrefix(local, "defer"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	return nil
}
