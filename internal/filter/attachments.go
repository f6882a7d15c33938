package filter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"strings"

	"posthorn/internal/message"
)

// AttachmentPolicy refuses messages that carry executables, scripts or macro-enabled Office
// documents, without a virus scanner. A part is judged by its declared content type, its file
// name's extension (Content-Disposition filename, or Content-Type name; RFC 2231 and RFC 2047
// encodings decoded) and its first octets: MZ (DOS/Windows PE), ELF, Mach-O and universal
// binaries, "#!" scripts. Zip archives (by magic or extension) are opened and their entries
// judged by name and first octets, nested zips to depth 3; OOXML documents are zips too, and
// one that holds a vbaProject.bin carries macros. OLE2 documents (.doc, .xls) carry macros when
// their directory names the _VBA_PROJECT stream.
//
// Walking is bounded: at most MaxParts MIME parts and MaxZipEntries entries per archive, MIME
// nesting and zip nesting limited, a nested zip opened only up to 8 MiB uncompressed. A part's
// decoded body is held in memory up to 256 KiB and in a temporary file beyond. The MIME
// structure is internal/message's, parsed once for every check of the body stage; a malformed
// message is judged on the structure message.Parse reads in it, and never refused for being
// malformed.
type AttachmentPolicy struct {
	// BlockedExtensions are extensions refused besides the built-in ones, lower case, without
	// the dot ("iso", "img").
	BlockedExtensions []string
	// TempDir holds spooled attachment bodies; "" is the system's.
	TempDir string
	// MaxParts bounds the MIME parts walked. Default: 1000.
	MaxParts int
	// MaxZipEntries bounds the entries read from one archive. Default: 1000.
	MaxZipEntries int
}

// Finding is one attachment the policy refuses.
type Finding struct {
	Kind string // "executable", "script" or "macro"
	File string // file name, "" when none was given; in an archive, "archive.zip/entry"
	Why  string // what gave it away: "extension", "content-type", "magic", "vbaProject.bin"
}

func (f *Finding) String() string { return fmt.Sprintf("%s %q by %s", f.Kind, f.File, f.Why) }

const (
	maxMIMEDepth   = 20
	maxZipDepth    = 3
	maxNestedZip   = 8 << 20
	memSpoolLimit  = 256 << 10
	ole2ScanLimit  = 32 << 20
	magicLength    = 8
	defaultParts   = 1000
	defaultEntries = 1000
)

// Built-in extension classes. Executables and scripts are what mail clients such as Outlook
// block by default; macro-enabled formats are the OOXML "m" variants.
var (
	executableExtensions = set("exe", "com", "scr", "pif", "cpl", "dll", "msi", "msp", "msc", "sys", "drv",
		"application", "gadget", "appx", "appxbundle", "msix", "jar", "apk", "app", "dmg", "elf", "lnk", "scf")
	scriptExtensions = set("bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "wsc", "hta", "ps1", "psm1",
		"psd1", "ps1xml", "reg", "inf", "sh", "csh", "ksh", "bash", "py", "pl", "vb", "sct", "mst", "chm")
	macroExtensions = set("docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppam", "ppsm", "sldm")
	zipExtensions   = set("zip", "docx", "dotx", "xlsx", "xltx", "pptx", "potx", "ppsx", "odt", "ods", "odp",
		"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm", "jar", "apk")

	blockedTypes = map[string]string{
		"application/x-msdownload":                                   "executable",
		"application/x-msdos-program":                                "executable",
		"application/x-dosexec":                                      "executable",
		"application/x-executable":                                   "executable",
		"application/x-mach-binary":                                  "executable",
		"application/x-sharedlib":                                    "executable",
		"application/vnd.microsoft.portable-executable":              "executable",
		"application/x-ms-installer":                                 "executable",
		"application/x-msi":                                          "executable",
		"application/java-archive":                                   "executable",
		"application/x-sh":                                           "script",
		"application/x-csh":                                          "script",
		"application/x-shellscript":                                  "script",
		"application/x-bat":                                          "script",
		"application/x-msdos-batch":                                  "script",
		"application/hta":                                            "script",
		"application/x-javascript":                                   "script",
		"application/javascript":                                     "script",
		"text/javascript":                                            "script",
		"application/x-vbscript":                                     "script",
		"text/vbscript":                                              "script",
		"application/vnd.ms-word.document.macroenabled.12":           "macro",
		"application/vnd.ms-word.template.macroenabled.12":           "macro",
		"application/vnd.ms-excel.sheet.macroenabled.12":             "macro",
		"application/vnd.ms-excel.template.macroenabled.12":          "macro",
		"application/vnd.ms-excel.addin.macroenabled.12":             "macro",
		"application/vnd.ms-excel.sheet.binary.macroenabled.12":      "macro",
		"application/vnd.ms-powerpoint.presentation.macroenabled.12": "macro",
		"application/vnd.ms-powerpoint.template.macroenabled.12":     "macro",
		"application/vnd.ms-powerpoint.addin.macroenabled.12":        "macro",
		"application/vnd.ms-powerpoint.slideshow.macroenabled.12":    "macro",
	}
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// check is the body stage's attachment check of the message r, parsed.
func (p *AttachmentPolicy) check(r io.ReaderAt, parsed *message.Parsed) []decision {
	if parsed == nil { // the message could not be read
		return []decision{note(Reason{Name: "attachment-error"})}
	}
	found, err := p.ScanParsed(r, parsed)
	if found != nil {
		return []decision{reject(Reason{Name: "attachment-" + found.Kind, Detail: found.File + " by " + found.Why},
			554, [3]int{5, 7, 1}, "Message rejected: attachment type not allowed")}
	}
	if err != nil {
		return []decision{note(Reason{Name: "attachment-error"})}
	}
	return nil
}

// Scan reads the message r and returns the first attachment the policy refuses, or nil; see
// ScanParsed. The message is held as an attachment's body is, in memory or a temporary file.
func (p *AttachmentPolicy) Scan(r io.Reader) (*Finding, error) {
	s, err := newSpool(r, p.TempDir)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	parsed, err := message.Parse(s.r, s.size)
	if err != nil {
		return nil, err
	}
	return p.ScanParsed(s.r, parsed)
}

// ScanParsed walks the message r, parsed (message.Parse's result, which the body stage shares
// between its checks), and returns the first attachment the policy refuses, or nil. An error
// is an I/O error, which ended the walk early.
func (p *AttachmentPolicy) ScanParsed(r io.ReaderAt, parsed *message.Parsed) (*Finding, error) {
	w := &walker{p: p, extra: set(p.BlockedExtensions...)}
	err := w.walk(&stickyReaderAt{r: r}, parsed.Root, 0)
	if errors.Is(err, errStop) {
		err = nil
	}
	return w.found, err
}

type walker struct {
	p     *AttachmentPolicy
	extra map[string]bool
	parts int
	found *Finding
}

// errStop ends the walk once something is found or a bound is reached.
var errStop = errors.New("stop")

// walk judges pt and the parts below it; src is the message pt belongs to.
func (w *walker) walk(src *stickyReaderAt, pt *message.Part, depth int) error {
	w.parts++
	if w.parts > w.limit(w.p.MaxParts, defaultParts) || depth > maxMIMEDepth {
		return errStop
	}
	switch {
	case pt.IsMultipart():
		for _, c := range pt.Parts {
			if err := w.walk(src, c, depth+1); err != nil {
				return err
			}
		}
		return src.err
	case pt.IsMessage():
		return w.walk(src, pt.Message, depth+1)
	case isMessageType(pt) && (pt.Encoding == "base64" || pt.Encoding == "quoted-printable"):
		// An encapsulated message that message.Parse leaves whole, being encoded (base64 or
		// quoted-printable, which RFC 2046 §5.2.1 forbids but senders do): decoded and walked.
		return w.encodedMessage(src, pt, depth)
	}
	return w.leaf(src, pt)
}

// isMessageType reports whether pt is declared message/rfc822 or message/global.
func isMessageType(pt *message.Part) bool {
	return pt.Type == "message" && (pt.Subtype == "rfc822" || pt.Subtype == "global")
}

// encodedMessage decodes the body of a message part with a transfer encoding, parses it and
// walks it.
func (w *walker) encodedMessage(src *stickyReaderAt, pt *message.Part, depth int) error {
	s, err := newSpool(message.DecodedBody(src.section(pt), pt), w.p.TempDir)
	if err != nil {
		return err
	}
	defer s.Close()
	inner, err := message.Parse(s.r, s.size)
	if err != nil {
		return err
	}
	return w.walk(&stickyReaderAt{r: s.r}, inner.Root, depth+1)
}

// fileName is the file name a part gives: Content-Disposition's filename, or else
// Content-Type's name (RFC 2231 and RFC 2047 encodings decoded).
func fileName(pt *message.Part) string {
	name := message.ParamValue(pt.DispositionParams, "filename")
	if name == "" {
		name = message.ParamValue(pt.Params, "name")
	}
	return decodeWords(name)
}

// leaf judges one body part.
func (w *walker) leaf(src *stickyReaderAt, pt *message.Part) error {
	mediaType := pt.Type + "/" + pt.Subtype
	name := fileName(pt)
	attachment := name != "" || pt.Disposition == "attachment" || pt.Type != "text"

	if f := w.byName(name); f != nil {
		return w.stop(f)
	}
	if kind, ok := blockedTypes[mediaType]; ok {
		return w.stop(&Finding{Kind: kind, File: name, Why: "content-type"})
	}
	if !attachment {
		return nil
	}
	body := bufio.NewReaderSize(message.DecodedBody(src.section(pt), pt), 4096)
	head, _ := body.Peek(magicLength)
	if src.err != nil {
		return src.err
	}
	if kind := magicKind(head); kind != "" {
		return w.stop(&Finding{Kind: kind, File: name, Why: "magic"})
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || zipExtensions[extension(name)] && bytes.HasPrefix(head, []byte("PK")):
		if err := w.zipPart(body, name); err != nil {
			return err
		}
	case bytes.HasPrefix(head, ole2Magic):
		if hasVBA(body) {
			return w.stop(&Finding{Kind: "macro", File: name, Why: "_VBA_PROJECT"})
		}
	}
	return src.err
}

// stickyReaderAt keeps the first error of the message's reader, which the lenient decoders
// above it would otherwise take for the end of a part.
type stickyReaderAt struct {
	r   io.ReaderAt
	err error
}

func (s *stickyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(p, off)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// section reads the body of pt.
func (s *stickyReaderAt) section(pt *message.Part) io.Reader {
	return io.NewSectionReader(s, pt.BodyStart, pt.Size())
}

func (w *walker) stop(f *Finding) error {
	w.found = f
	return errStop
}

// byName judges a file name by its extension.
func (w *walker) byName(name string) *Finding {
	ext := extension(name)
	switch {
	case ext == "":
		return nil
	case macroExtensions[ext]:
		return &Finding{Kind: "macro", File: name, Why: "extension"}
	case executableExtensions[ext]:
		return &Finding{Kind: "executable", File: name, Why: "extension"}
	case scriptExtensions[ext]:
		return &Finding{Kind: "script", File: name, Why: "extension"}
	case w.extra[ext]:
		return &Finding{Kind: "blocked", File: name, Why: "extension"}
	}
	return nil
}

func (w *walker) limit(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// extension is the lower-case extension of a file name, without the dot. Trailing dots and
// spaces, which Windows ignores, are ignored too ("invoice.exe ." is an .exe).
func extension(name string) string {
	name = strings.TrimRight(name, ". \t")
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	ext := path.Ext(name)
	return strings.ToLower(strings.TrimPrefix(ext, "."))
}

// decodeWords decodes RFC 2047 encoded words in a parameter value some clients send instead of
// RFC 2231's form.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var dec mime.WordDecoder
	if d, err := dec.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

var ole2Magic = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// magicKind recognises executables and scripts by their first octets.
func magicKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("MZ")): // DOS and Windows PE
		return "executable"
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "executable"
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}),
		bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}):
		return "executable" // Mach-O, both byte orders, 32 and 64 bits
	case bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}):
		return "executable" // Mach-O universal binary, or a Java class file
	case bytes.HasPrefix(head, []byte("#!")):
		return "script"
	}
	return ""
}

// vbaMarker is the name of the VBA project stream as an OLE2 directory entry stores it
// (UTF-16LE), present in every document with macros ([MS-OVBA] §2.2.1).
var vbaMarker = []byte("_\x00V\x00B\x00A\x00_\x00P\x00R\x00O\x00J\x00E\x00C\x00T\x00")

// hasVBA searches an OLE2 file, up to ole2ScanLimit octets, for the VBA project stream's name.
func hasVBA(r io.Reader) bool {
	buf := make([]byte, 64<<10)
	keep := len(vbaMarker) - 1
	var window []byte
	var read int64
	for empty := 0; read < ole2ScanLimit && empty < 100; {
		n, err := r.Read(buf)
		read += int64(n)
		if n == 0 {
			empty++ // a reader that returns nothing again and again is broken: give up
		}
		window = append(window, buf[:n]...)
		if bytes.Contains(window, vbaMarker) {
			return true
		}
		if len(window) > keep {
			window = append(window[:0], window[len(window)-keep:]...)
		}
		if err != nil {
			return false
		}
	}
	return false
}

// spool holds a part's decoded body for random access: in memory up to memSpoolLimit, in a
// temporary file beyond.
type spool struct {
	r    io.ReaderAt
	size int64
	file *os.File
}

func newSpool(r io.Reader, dir string) (*spool, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, memSpoolLimit+1))
	if err != nil {
		return nil, err
	}
	if n <= memSpoolLimit {
		return &spool{r: bytes.NewReader(buf.Bytes()), size: n}, nil
	}
	f, err := os.CreateTemp(dir, "posthorn-attachment-*")
	if err != nil {
		return nil, fmt.Errorf("spool attachment: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked at once: it goes away with the descriptor
	m, err := io.Copy(f, io.MultiReader(&buf, r))
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("spool attachment: %w", err)
	}
	return &spool{r: f, size: m, file: f}, nil
}

func (s *spool) Close() error {
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}
