package imapserver

import (
	"strings"
	"time"
)

// command is one parsed client command (RFC 9051 §6, §9 "command").
type command struct {
	tag  string
	name string // upper case; "UID FETCH" etc. for the UID forms
	uid  bool   // the UID form of COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE
	args any    // one of the *...Args types, or nil for commands without arguments
}

// Arguments of the commands that have them. Mailbox names are kept as sent: the session
// decodes them (modified UTF-7, or UTF-8 once enabled).

type loginArgs struct{ user, password string }

type authenticateArgs struct {
	mechanism string // upper case
	initial   string // SASL-IR initial response, base64 or "=" (RFC 4959)
	hasIR     bool
}

type enableArgs struct{ caps []string } // upper case

type idArgs struct{ params []string } // name, value pairs; value "" for NIL

type mailboxArgs struct{ mailbox string } // DELETE, SUBSCRIBE, UNSUBSCRIBE

type createArgs struct {
	mailbox string
	use     []string // RFC 6154 §3 CREATE ... (USE (\Sent))
}

type renameArgs struct{ from, to string }

type selectArgs struct {
	mailbox   string
	condstore bool // RFC 7162 §3.1.8
	qresync   *qresyncParams
}

// qresyncParams are SELECT's QRESYNC parameters (RFC 7162 §3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modSeq      uint64
	knownUIDs   *numSet
	seqMatch    [2]numSet // known sequence numbers and the UIDs they have
	hasSeqMatch bool
}

type statusArgs struct {
	mailbox string
	items   []string // upper case
}

type appendArgs struct {
	mailbox string
	flags   []string
	date    time.Time
	hasDate bool
	utf8    bool // RFC 6855 §4: UTF8 (~{n})
	lit     literalMarker
}

type seqArgs struct{ set numSet } // UID EXPUNGE

type copyArgs struct {
	set     numSet
	mailbox string
}

type fetchArgs struct {
	set          numSet
	items        []fetchItem
	changedSince uint64 // RFC 7162 §3.1.4.1; 0 for none
	hasChanged   bool
	vanished     bool // RFC 7162 §3.2.6
}

type storeArgs struct {
	set            numSet
	unchangedSince uint64 // RFC 7162 §3.1.3
	hasUnchanged   bool
	op             string // "FLAGS", "+FLAGS", "-FLAGS"
	silent         bool
	flags          []string
}

// commandStates says in which session states a command is valid (RFC 9051 §6).
type sessionState int

const (
	stateNotAuthenticated sessionState = 1 << iota
	stateAuthenticated
	stateSelected
	stateLogout

	stateAny  = stateNotAuthenticated | stateAuthenticated | stateSelected
	stateAuth = stateAuthenticated | stateSelected
)

// commandSpec is the grammar and state of one command.
type commandSpec struct {
	states sessionState
	parse  func(p *parser, c *command) error // nil: no arguments
}

var commandSpecs = map[string]commandSpec{
	// RFC 9051 §6.1: any state.
	"CAPABILITY": {states: stateAny},
	"NOOP":       {states: stateAny},
	"LOGOUT":     {states: stateAny},
	"ID":         {states: stateAny, parse: parseID}, // RFC 2971
	// §6.2: not authenticated.
	"STARTTLS":     {states: stateNotAuthenticated},
	"AUTHENTICATE": {states: stateNotAuthenticated, parse: parseAuthenticate},
	"LOGIN":        {states: stateNotAuthenticated, parse: parseLogin},
	// §6.3: authenticated.
	"ENABLE":      {states: stateAuth, parse: parseEnable},
	"SELECT":      {states: stateAuth, parse: parseSelect},
	"EXAMINE":     {states: stateAuth, parse: parseSelect},
	"CREATE":      {states: stateAuth, parse: parseCreate},
	"DELETE":      {states: stateAuth, parse: parseMailboxArg},
	"RENAME":      {states: stateAuth, parse: parseRename},
	"SUBSCRIBE":   {states: stateAuth, parse: parseMailboxArg},
	"UNSUBSCRIBE": {states: stateAuth, parse: parseMailboxArg},
	"LIST":        {states: stateAuth, parse: parseList},
	"LSUB":        {states: stateAuth, parse: parseLsub},
	"NAMESPACE":   {states: stateAuth},
	"STATUS":      {states: stateAuth, parse: parseStatus},
	"APPEND":      {states: stateAuth, parse: parseAppend},
	"IDLE":        {states: stateAuth}, // RFC 2177
	// RFC 9208 QUOTA.
	"GETQUOTA":     {states: stateAuth, parse: parseGetQuota},
	"GETQUOTAROOT": {states: stateAuth, parse: parseGetQuotaRoot},
	"SETQUOTA":     {states: stateAuth, parse: parseSetQuota},
	// §6.4: selected.
	"CHECK":       {states: stateSelected},
	"CLOSE":       {states: stateSelected},
	"UNSELECT":    {states: stateSelected}, // RFC 3691
	"EXPUNGE":     {states: stateSelected},
	"UID EXPUNGE": {states: stateSelected, parse: parseSeqArg}, // RFC 4315
	"SEARCH":      {states: stateSelected, parse: parseSearch},
	"UID SEARCH":  {states: stateSelected, parse: parseSearch},
	"FETCH":       {states: stateSelected, parse: parseFetch},
	"UID FETCH":   {states: stateSelected, parse: parseFetch},
	"STORE":       {states: stateSelected, parse: parseStore},
	"UID STORE":   {states: stateSelected, parse: parseStore},
	"COPY":        {states: stateSelected, parse: parseCopy},
	"UID COPY":    {states: stateSelected, parse: parseCopy},
	"MOVE":        {states: stateSelected, parse: parseCopy}, // RFC 6851
	"UID MOVE":    {states: stateSelected, parse: parseCopy},
}

// parseCommand reads one command: tag SP command CRLF (RFC 9051 §9). It returns the command
// with whatever was parsed of it and an error: a *response for a command to refuse (the tag
// is set when it could be read), another error when the connection failed. For APPEND it stops
// before the message literal: see appendArgs.lit. The caller checks the state before arguments
// are parsed through parseArgs, so a command not valid now gets no continuation.
func parseCommand(p *parser) (*command, commandSpec, error) {
	c := &command{}
	if err := p.begin(); err != nil {
		return c, commandSpec{}, err
	}
	c.tag = p.takeWhile(isTagChar)
	if c.tag == "" || !p.consume(' ') {
		c.tag = ""
		return c, commandSpec{}, &response{status: "BAD", text: "missing or invalid tag"}
	}
	name, err := p.keyword()
	if err != nil {
		return c, commandSpec{}, badf("missing command")
	}
	if name == "UID" {
		if err := p.sp(); err != nil {
			return c, commandSpec{}, err
		}
		sub, err := p.keyword()
		if err != nil {
			return c, commandSpec{}, err
		}
		name += " " + sub
		c.uid = true
	}
	c.name = name
	spec, ok := commandSpecs[name]
	if !ok {
		return c, spec, badf("unknown command %s", strings.ToValidUTF8(name, "?"))
	}
	return c, spec, nil
}

// parseArgs reads the arguments of c and checks that the command ends.
func parseArgs(p *parser, spec commandSpec, c *command) error {
	if spec.parse != nil {
		if err := spec.parse(p, c); err != nil {
			return err
		}
		if _, ok := c.args.(*appendArgs); ok {
			return nil // the message literal follows
		}
	}
	return p.eol()
}

func parseLogin(p *parser, c *command) error {
	a := &loginArgs{}
	c.args = a
	if err := p.spAstring(&a.user); err != nil {
		return err
	}
	return p.spAstring(&a.password)
}

// parseAuthenticate: AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 9051 §6.2.2, RFC 4959).
func parseAuthenticate(p *parser, c *command) error {
	a := &authenticateArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	mech, err := p.keyword()
	if err != nil {
		return err
	}
	a.mechanism = mech
	if p.consume(' ') {
		a.initial = p.takeWhile(isBase64Char)
		if a.initial == "" {
			return p.missing("initial response")
		}
		a.hasIR = true
	}
	return nil
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// parseEnable: ENABLE 1*(SP capability) (RFC 5161).
func parseEnable(p *parser, c *command) error {
	a := &enableArgs{}
	c.args = a
	for p.consume(' ') {
		cap, err := p.keyword()
		if err != nil {
			return err
		}
		a.caps = append(a.caps, cap)
	}
	if len(a.caps) == 0 {
		return p.missing("capability")
	}
	return nil
}

// parseID: ID SP ("(" string SP nstring *(SP string SP nstring) ")" / NIL) (RFC 2971 §4).
func parseID(p *parser, c *command) error {
	a := &idArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	if p.tryKeyword("NIL") {
		return nil
	}
	return p.parenList(func() error {
		if len(a.params) >= 60 { // RFC 2971 §3.3: at most 30 pairs
			return badf("too many ID fields")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		value, _, err := p.nstring()
		a.params = append(a.params, name, value)
		return err
	})
}

func parseMailboxArg(p *parser, c *command) error {
	a := &mailboxArgs{}
	c.args = a
	return p.spAstring(&a.mailbox)
}

// parseCreate: CREATE SP mailbox [SP "(" create-param *(SP create-param) ")"], with the USE
// parameter of RFC 6154 §6: USE SP "(" [use-attr *(SP use-attr)] ")".
func parseCreate(p *parser, c *command) error {
	a := &createArgs{}
	c.args = a
	if err := p.spAstring(&a.mailbox); err != nil {
		return err
	}
	if !p.consume(' ') {
		return nil
	}
	return p.parenList(func() error {
		name, err := p.keyword()
		if err != nil {
			return err
		}
		if name != "USE" {
			return badf("unknown CREATE parameter %s", name)
		}
		if err := p.sp(); err != nil {
			return err
		}
		a.use, err = p.flagList()
		return err
	})
}

func parseRename(p *parser, c *command) error {
	a := &renameArgs{}
	c.args = a
	if err := p.spAstring(&a.from); err != nil {
		return err
	}
	return p.spAstring(&a.to)
}

// parseSelect: SELECT/EXAMINE SP mailbox [SP "(" select-param *(SP select-param) ")"] with the
// CONDSTORE and QRESYNC parameters of RFC 7162 §3.1.8 and §3.2.5.
func parseSelect(p *parser, c *command) error {
	a := &selectArgs{}
	c.args = a
	if err := p.spAstring(&a.mailbox); err != nil {
		return err
	}
	if !p.consume(' ') {
		return nil
	}
	return p.parenList(func() error {
		name, err := p.keyword()
		if err != nil {
			return err
		}
		switch name {
		case "CONDSTORE":
			a.condstore = true
		case "QRESYNC":
			if err := p.sp(); err != nil {
				return err
			}
			a.qresync, err = parseQresync(p)
			return err
		default:
			return badf("unknown SELECT parameter %s", name)
		}
		return nil
	})
}

// parseQresync: "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
// with seq-match-data = "(" known-sequence-set SP known-uid-set ")" (RFC 7162 §7).
func parseQresync(p *parser) (*qresyncParams, error) {
	q := &qresyncParams{}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var err error
	if q.uidValidity, err = p.nzNumber(); err != nil {
		return nil, err
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	if q.modSeq, err = p.number64(); err != nil {
		return nil, err
	}
	if p.consume(' ') && p.peek() != '(' {
		uids, err := p.uidSet()
		if err != nil {
			return nil, err
		}
		q.knownUIDs = &uids
		p.consume(' ')
	}
	if p.consume('(') {
		if q.seqMatch[0], err = p.uidSet(); err != nil {
			return nil, err
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		if q.seqMatch[1], err = p.uidSet(); err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		q.hasSeqMatch = true
	}
	return q, p.expect(')')
}

// statusItems are the STATUS data items we answer (RFC 9051 §6.3.11, RFC 8438 SIZE, RFC 7162
// HIGHESTMODSEQ, RFC 7889 APPENDLIMIT, RFC 9208 DELETED-STORAGE, and RECENT of RFC 3501).
var statusItems = map[string]bool{
	"MESSAGES": true, "UIDNEXT": true, "UIDVALIDITY": true, "UNSEEN": true, "DELETED": true,
	"SIZE": true, "RECENT": true, "HIGHESTMODSEQ": true, "APPENDLIMIT": true, "DELETED-STORAGE": true,
}

// parseStatusItems: "(" status-att *(SP status-att) ")".
func parseStatusItems(p *parser) ([]string, error) {
	var items []string
	err := p.parenList(func() error {
		item, err := p.keyword()
		if err != nil {
			return err
		}
		if !statusItems[item] {
			return badf("unknown STATUS item %s", item)
		}
		if len(items) < len(statusItems) {
			items = append(items, item)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, badf("no STATUS items")
	}
	return items, nil
}

func parseStatus(p *parser, c *command) error {
	a := &statusArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	var err error
	if a.mailbox, err = p.astring(); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	a.items, err = parseStatusItems(p)
	return err
}

// parseAppend: APPEND SP mailbox [SP flag-list] [SP date-time] SP literal, or with UTF8=ACCEPT
// SP "UTF8" SP "(" literal8 ")" (RFC 6855 §4), or a literal8 (RFC 3516 BINARY). It stops at the
// literal marker, which must end the line.
func parseAppend(p *parser, c *command) error {
	a := &appendArgs{}
	c.args = a
	if err := p.spAstring(&a.mailbox); err != nil {
		return err
	}
	var err error
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		if a.flags, err = p.flagList(); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	if p.peek() == '"' {
		if a.date, err = p.dateTime(); err != nil {
			return err
		}
		a.hasDate = true
		if err := p.sp(); err != nil {
			return err
		}
	}
	if p.tryKeyword("UTF8") {
		if err := p.sp(); err != nil {
			return err
		}
		if err := p.expect('('); err != nil {
			return err
		}
		a.utf8 = true
		if p.peek() != '~' {
			return p.missing("literal8")
		}
	}
	a.lit, err = p.literalHeader()
	return err
}

// finishAppend reads what follows APPEND's message literal: ")" after a UTF8 literal, then the
// end of the command.
func finishAppend(p *parser, a *appendArgs) error {
	if err := p.readLine(); err != nil {
		return err
	}
	if a.utf8 {
		if err := p.expect(')'); err != nil {
			return err
		}
	}
	return p.eol()
}

func parseSeqArg(p *parser, c *command) error {
	a := &seqArgs{}
	c.args = a
	return p.spSeqSet(&a.set)
}

// parseCopy: COPY/MOVE SP sequence-set SP mailbox.
func parseCopy(p *parser, c *command) error {
	a := &copyArgs{}
	c.args = a
	if err := p.spSeqSet(&a.set); err != nil {
		return err
	}
	return p.spAstring(&a.mailbox)
}

// parseStore: STORE SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"] SP
// store-att-flags, with store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list /
// (flag *(SP flag))) (RFC 9051 §6.4.6, RFC 7162 §3.1.3).
func parseStore(p *parser, c *command) error {
	a := &storeArgs{}
	c.args = a
	if err := p.spSeqSet(&a.set); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	var err error
	if p.consume('(') {
		if !p.tryKeyword("UNCHANGEDSINCE") {
			return badf("unknown STORE modifier")
		}
		if err := p.sp(); err != nil {
			return err
		}
		if a.unchangedSince, err = p.number64(); err != nil {
			return err
		}
		a.hasUnchanged = true
		if err := p.expect(')'); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	sign := ""
	if p.consume('+') {
		sign = "+"
	} else if p.consume('-') {
		sign = "-"
	}
	item, err := p.keyword()
	if err != nil {
		return err
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		a.silent = true
	default:
		return badf("unknown STORE item %s", item)
	}
	a.op = sign + "FLAGS"
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.flags, err = p.flagList()
		return err
	}
	for {
		f, err := p.flag()
		if err != nil {
			return err
		}
		a.flags = append(a.flags, f)
		if !p.consume(' ') {
			return nil
		}
	}
}
