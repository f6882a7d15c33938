package imapserver

import "strings"

// command is one parsed client command (RFC 9051 §6, §9 "command").
type command struct {
	tag  string
	name string // upper case; "UID FETCH" etc. for the UID forms
	uid  bool   // the UID form of COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE
	args any    // the command's *...Args, or nil for commands without arguments
}

// sessionState is a state of the session (RFC 9051 §3); a set of them says where a command is
// valid.
type sessionState int

const (
	stateNotAuthenticated sessionState = 1 << iota
	stateAuthenticated
	stateSelected
	stateLogout

	stateAny  = stateNotAuthenticated | stateAuthenticated | stateSelected
	stateAuth = stateAuthenticated | stateSelected
)

// handler executes a command. It returns nil for "OK <command> completed", a *response for
// another status response, a *connError when the connection failed, and any other error for
// a failure of the server (logged; the client gets NO [UNAVAILABLE] when the store did not
// answer, see failure).
type handler func(s *session, c *command) error

// commandSpec is one command: the states it is valid in, how its arguments are read, and what
// runs it. Its arguments' type, parser and handler live in the command's file (fetch.go and
// parse_fetch.go for FETCH). Mailbox names are kept as sent: the handler decodes them
// (modified UTF-7, or UTF-8 once enabled).
type commandSpec struct {
	states sessionState
	// uid says the command has a UID form (RFC 9051 §6.4.9, RFC 4315 §2.1 UID EXPUNGE, RFC
	// 6851 MOVE): "UID name" has the same states and handler, with command.uid set for the
	// parser and the handler.
	uid bool
	// holdsExpunges says that no EXPUNGE may be sent while the command (not its UID form)
	// runs: it uses sequence numbers, and the client must be able to rely on them (RFC 9051
	// §7.5.1).
	holdsExpunges bool
	parse         func(p *parser, c *command) error // nil: no arguments
	run           handler
}

// commands is the table of every command the server knows, by name; lookupCommand finds the UID
// forms.
var commands = map[string]commandSpec{
	// RFC 9051 §6.1: any state.
	"CAPABILITY": {states: stateAny, run: (*session).cmdCapability},
	"NOOP":       {states: stateAny, run: (*session).cmdNoop},
	"LOGOUT":     {states: stateAny, run: (*session).cmdLogout},
	"ID":         {states: stateAny, parse: parseID, run: (*session).cmdID}, // RFC 2971
	// §6.2: not authenticated.
	"STARTTLS":     {states: stateNotAuthenticated, run: (*session).cmdStartTLS},
	"AUTHENTICATE": {states: stateNotAuthenticated, parse: parseAuthenticate, run: (*session).cmdAuthenticate},
	"LOGIN":        {states: stateNotAuthenticated, parse: parseLogin, run: (*session).cmdLogin},
	// §6.3: authenticated.
	"ENABLE":      {states: stateAuth, parse: parseEnable, run: (*session).cmdEnable},
	"SELECT":      {states: stateAuth, parse: parseSelect, run: (*session).cmdSelect},
	"EXAMINE":     {states: stateAuth, parse: parseSelect, run: (*session).cmdSelect},
	"CREATE":      {states: stateAuth, parse: parseCreate, run: (*session).cmdCreate},
	"DELETE":      {states: stateAuth, parse: parseMailboxArg, run: (*session).cmdDelete},
	"RENAME":      {states: stateAuth, parse: parseRename, run: (*session).cmdRename},
	"SUBSCRIBE":   {states: stateAuth, parse: parseMailboxArg, run: (*session).cmdSubscribe},
	"UNSUBSCRIBE": {states: stateAuth, parse: parseMailboxArg, run: (*session).cmdSubscribe},
	"LIST":        {states: stateAuth, parse: parseList, run: (*session).cmdList},
	"LSUB":        {states: stateAuth, parse: parseLsub, run: (*session).cmdList},
	"NAMESPACE":   {states: stateAuth, run: (*session).cmdNamespace},
	"STATUS":      {states: stateAuth, parse: parseStatus, run: (*session).cmdStatus},
	"APPEND":      {states: stateAuth, parse: parseAppend, run: (*session).cmdAppend},
	"IDLE":        {states: stateAuth, run: (*session).cmdIdle}, // RFC 2177
	// RFC 9208 QUOTA.
	"GETQUOTA":     {states: stateAuth, parse: parseGetQuota, run: (*session).cmdGetQuota},
	"GETQUOTAROOT": {states: stateAuth, parse: parseGetQuotaRoot, run: (*session).cmdGetQuotaRoot},
	"SETQUOTA":     {states: stateAuth, parse: parseSetQuota, run: (*session).cmdSetQuota},
	// §6.4: selected.
	"CHECK":    {states: stateSelected, run: (*session).cmdNoop},
	"CLOSE":    {states: stateSelected, run: (*session).cmdClose},
	"UNSELECT": {states: stateSelected, run: (*session).cmdClose},                                   // RFC 3691
	"EXPUNGE":  {states: stateSelected, uid: true, parse: parseExpunge, run: (*session).cmdExpunge}, // UID EXPUNGE: RFC 4315
	"SEARCH":   {states: stateSelected, uid: true, holdsExpunges: true, parse: parseSearch, run: (*session).cmdSearch},
	"FETCH":    {states: stateSelected, uid: true, holdsExpunges: true, parse: parseFetch, run: (*session).cmdFetch},
	"STORE":    {states: stateSelected, uid: true, holdsExpunges: true, parse: parseStore, run: (*session).cmdStore},
	"COPY":     {states: stateSelected, uid: true, parse: parseCopy, run: (*session).cmdCopy},
	"MOVE":     {states: stateSelected, uid: true, parse: parseCopy, run: (*session).cmdCopy}, // RFC 6851
}

// lookupCommand finds a command by its name as command.name spells it: "FETCH", or "UID FETCH"
// for the UID form of a command that has one.
func lookupCommand(name string) (commandSpec, bool) {
	base, isUID := strings.CutPrefix(name, "UID ")
	spec, ok := commands[base]
	if !ok || isUID && !spec.uid {
		return commandSpec{}, false
	}
	return spec, true
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
	spec, ok := lookupCommand(name)
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
