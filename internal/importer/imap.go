package importer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/store"
)

// Security is how an IMAP import connects.
type Security int

const (
	ImplicitTLS   Security = iota // TLS from the start (RFC 8314), port 993
	StartTLS                      // STARTTLS (RFC 3501 §6.2.1), port 143
	PlainLoopback                 // no TLS, refused unless the address is a loopback one
)

// IMAP is every folder of another IMAP server. Walk logs in (LOGIN, RFC 3501 §6.2.3), lists
// the folders (LIST "" "*", RFC 3501 §6.3.8, with the special-use attributes of RFC 6154 when
// the server gives them), and in each, opened read-only (EXAMINE), fetches the messages in
// batches: for BatchSize sequence numbers their UID, FLAGS and INTERNALDATE, then their bodies
// by UID (UID FETCH first:last BODY.PEEK[], which sets no \Seen), each streamed from the
// connection to the importer; at most one batch's metadata is held. Names are decoded from
// modified UTF-7 and take "/" as the separator.
type IMAP struct {
	Addr     string // host or host:port; the port defaults by Security
	User     string
	Password string
	Security Security
	// TLSConfig, when set, is used for TLS (tests give their own roots); ServerName is filled in.
	TLSConfig *tls.Config
	BatchSize int // messages per batch; default 100
	// Timeout bounds the connection's set-up. Default: 30 s.
	Timeout time.Duration
}

type imapFolder struct {
	name  string // as the server names it
	local Folder
}

// Walk implements Source.
func (m *IMAP) Walk(ctx context.Context, visit func(Message) error) error {
	c, err := m.connect(ctx)
	if err != nil {
		return err
	}
	defer c.conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Now()) })
	defer stop()
	folders, err := c.listFolders()
	if err != nil {
		return err
	}
	for _, f := range folders {
		if err := c.walkFolder(ctx, f, m.batchSize(), visit); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("folder %q: %w", f.name, err)
		}
	}
	_ = c.command("LOGOUT", nil, nil)
	return nil
}

func (m *IMAP) batchSize() int {
	if m.BatchSize > 0 {
		return m.BatchSize
	}
	return 100
}

// connect dials, secures and logs in.
func (m *IMAP) connect(ctx context.Context) (*imapClient, error) {
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		host, port = m.Addr, "993"
		if m.Security != ImplicitTLS {
			port = "143"
		}
	}
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", m.Addr, err)
	}
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if m.TLSConfig != nil {
		tlsConf = m.TLSConfig.Clone()
		tlsConf.ServerName = host
	}
	switch m.Security {
	case PlainLoopback:
		if ip, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !ip.IP.IsLoopback() {
			conn.Close()
			return nil, fmt.Errorf("connect to %s: not a loopback address: plain text is refused", m.Addr)
		}
	case ImplicitTLS:
		conn = tls.Client(conn, tlsConf)
	}
	c := newIMAPClient(conn)
	fail := func(err error) (*imapClient, error) {
		conn.Close()
		return nil, fmt.Errorf("imap %s: %w", m.Addr, err)
	}
	if err := c.greeting(); err != nil {
		return fail(err)
	}
	if m.Security == StartTLS {
		if err := c.command("STARTTLS", nil, nil); err != nil {
			return fail(err)
		}
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("starttls: %w", err))
		}
		c = newIMAPClient(tc)
	}
	user, err := quote(m.User)
	if err != nil {
		return fail(err)
	}
	pass, err := quote(m.Password)
	if err != nil {
		return fail(err)
	}
	if err := c.command("LOGIN "+user+" "+pass, nil, nil); err != nil {
		return fail(errors.New("login refused")) // the reply may echo nothing useful; never the password
	}
	return c, nil
}

// listFolders: LIST "" "*" (RFC 3501 §6.3.8); \Noselect and \NonExistent folders have no
// messages to copy.
func (c *imapClient) listFolders() ([]imapFolder, error) {
	var out []imapFolder
	err := c.command(`LIST "" "*"`, func(items []item) error {
		if len(items) < 4 || !strings.EqualFold(items[0].text, "LIST") || !items[1].isList {
			return nil
		}
		use := ""
		for _, a := range items[1].list {
			switch strings.ToLower(a.text) {
			case `\noselect`, `\nonexistent`:
				return nil
			case `\sent`, `\drafts`, `\junk`, `\trash`, `\archive`:
				use = specialUse(a.text)
			}
		}
		name := items[3].text
		local, err := decodeMUTF7(name)
		if err != nil {
			local = name // a server that sends UTF-8 names
		}
		if delim := items[2]; !delim.isNil && delim.text != "" && delim.text != "/" {
			local = strings.ReplaceAll(local, delim.text, "/")
		}
		if strings.EqualFold(local, "INBOX") {
			local = "INBOX"
		}
		out = append(out, imapFolder{name: name, local: Folder{Name: local, SpecialUse: use}})
		return nil
	}, nil)
	return out, err
}

func specialUse(attr string) string {
	for _, use := range []string{store.UseSent, store.UseDrafts, store.UseJunk, store.UseTrash, store.UseArchive} {
		if strings.EqualFold(attr, use) {
			return use
		}
	}
	return ""
}

// fetched is the metadata of one message of a batch.
type fetched struct {
	uid   uint32
	flags []string
	date  time.Time
}

// walkFolder opens a folder read-only and visits its messages batch by batch.
func (c *imapClient) walkFolder(ctx context.Context, f imapFolder, batch int, visit func(Message) error) error {
	name, err := quote(f.name)
	if err != nil {
		return err
	}
	var exists uint32
	if err := c.command("EXAMINE "+name, func(items []item) error {
		if len(items) == 2 && strings.EqualFold(items[1].text, "EXISTS") {
			n, err := strconv.ParseUint(items[0].text, 10, 32)
			if err == nil {
				exists = uint32(n)
			}
		}
		return nil
	}, nil); err != nil {
		return err
	}
	for first := uint32(1); first <= exists; first += uint32(batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		last := min(first+uint32(batch)-1, exists)
		if err := c.fetchBatch(f, first, last, visit); err != nil {
			return err
		}
	}
	return nil
}

// fetchBatch: the metadata of sequence numbers first:last, then their bodies by UID.
func (c *imapClient) fetchBatch(f imapFolder, first, last uint32, visit func(Message) error) error {
	meta := map[uint32]fetched{}
	var lo, hi uint32
	err := c.command(fmt.Sprintf("FETCH %d:%d (UID FLAGS INTERNALDATE)", first, last), func(items []item) error {
		if len(items) < 3 || !strings.EqualFold(items[1].text, "FETCH") || !items[2].isList {
			return nil
		}
		seq, err := strconv.ParseUint(items[0].text, 10, 32)
		if err != nil {
			return nil
		}
		var m fetched
		attrs := items[2].list
		for i := 0; i+1 < len(attrs); i += 2 {
			switch v := attrs[i+1]; strings.ToUpper(attrs[i].text) {
			case "UID":
				n, _ := strconv.ParseUint(v.text, 10, 32)
				m.uid = uint32(n)
			case "FLAGS":
				for _, fl := range v.list {
					m.flags = append(m.flags, fl.text)
				}
			case "INTERNALDATE":
				// RFC 3501 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz", the day may start with a space.
				m.date, _ = time.Parse("_2-Jan-2006 15:04:05 -0700", v.text)
			}
		}
		if m.uid == 0 {
			return nil
		}
		meta[uint32(seq)] = m
		if lo == 0 || m.uid < lo {
			lo = m.uid
		}
		hi = max(hi, m.uid)
		return nil
	}, nil)
	if err != nil || len(meta) == 0 {
		return err
	}
	return c.command(fmt.Sprintf("UID FETCH %d:%d (BODY.PEEK[])", lo, hi), nil, func(seq uint32, r io.Reader) error {
		m, ok := meta[seq]
		if !ok {
			return nil // a message that came after the metadata was read: the next run takes it
		}
		return visit(Message{Folder: f.local, Flags: m.flags, InternalDate: m.date, Body: r})
	})
}
