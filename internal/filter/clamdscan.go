package filter

// What the body stage sends to clamd. Every message, or, with Clamd.AttachmentsOnly, only the
// messages that can carry malware, which is what Rspamd's antivirus module scans by default
// (scan_mime_parts = true, scan_text_mime = false): a message whose parts are all text, none
// of them named as a file, holds nothing a mail client runs or opens in another program, and
// clamd's signatures for such text are phishing patterns, which the spam classifier's URL
// checks cover. Text can still smuggle a file: a text part with a file name or an attachment
// disposition (an .html attachment, say) counts as an attachment, and so does one that holds a
// uuencoded, yEnc or BinHex block, the encodings that older clients and news gateways put
// inline and that ClamAV decodes. A message that can carry malware is sent whole, as without
// the option, so that clamd's own MIME decoding and its mail signatures see it as before.

import (
	"bufio"
	"bytes"
	"context"
	"io"

	"posthorn/internal/message"
)

// scanVirus is the body stage's virus check of the message r, size octets; parsed is its
// structure, nil when it could not be read (it is then sent as it is, and clamd's read fails
// as every other check's does).
func (f *Filter) scanVirus(ctx context.Context, r io.ReaderAt, size int64, parsed *message.Parsed) []decision {
	if size > f.Clamd.maxSize() {
		return []decision{note(Reason{Name: "virus-scan-skipped", Detail: "size"})}
	}
	if f.Clamd.AttachmentsOnly && parsed != nil {
		src := &stickyReaderAt{r: r}
		if !carriesFiles(src, parsed.Root) && src.err == nil {
			return nil
		}
	}
	sig, err := f.Clamd.Scan(ctx, io.NewSectionReader(r, 0, size))
	switch {
	case err != nil:
		f.Logger.Warn("virus scan failed", "err", err)
		if f.ClamdFailOpen {
			return []decision{note(Reason{Name: "virus-scan-unavailable"})}
		}
		return []decision{tempFail(Reason{Name: "virus-scan-unavailable"}, 451, [3]int{4, 7, 1}, "Message could not be scanned, try again later")}
	case sig != "":
		return []decision{reject(Reason{Name: "virus", Detail: sig}, 554, [3]int{5, 7, 1}, "Message rejected: malware detected")}
	}
	return nil
}

// carriesFiles reports whether pt, or a part below it, can carry malware: a part that is not
// text, a text part named as a file or marked as an attachment (RFC 2183), or a text part that
// holds an inline-encoded file.
func carriesFiles(src *stickyReaderAt, pt *message.Part) bool {
	switch {
	case pt.IsMultipart():
		for _, c := range pt.Parts {
			if carriesFiles(src, c) {
				return true
			}
		}
		return false
	case pt.IsMessage():
		return carriesFiles(src, pt.Message)
	case pt.Type != "text", pt.Disposition == "attachment", fileName(pt) != "":
		return true
	}
	return hasInlineFile(message.DecodedBody(src.section(pt), pt))
}

// inlineFileMarkers start the line of an inline-encoded file: uuencode's "begin" line (POSIX
// uuencode: "begin <mode> <name>"), yEnc's "=ybegin" and BinHex 4.0's notice.
var inlineFileMarkers = [][]byte{[]byte("begin "), []byte("=ybegin "), []byte("(This file must be converted with BinHex")}

// hasInlineFile reports whether the text r has a line that starts an inline-encoded file.
func hasInlineFile(r io.Reader) bool {
	br := bufio.NewReaderSize(r, 16<<10)
	atStart := true
	for {
		line, err := br.ReadSlice('\n')
		if atStart && isInlineFileStart(line) {
			return true
		}
		atStart = err == nil // a line longer than the buffer goes on in the next slice
		if err != nil && err != bufio.ErrBufferFull {
			return false
		}
	}
}

// isInlineFileStart reports whether line starts an inline-encoded file; uuencode's needs its
// octal mode, so that prose beginning with "begin " does not count.
func isInlineFileStart(line []byte) bool {
	for i, m := range inlineFileMarkers {
		rest, ok := bytes.CutPrefix(line, m)
		if !ok {
			continue
		}
		if i > 0 {
			return true
		}
		digits := 0
		for digits < len(rest) && '0' <= rest[digits] && rest[digits] <= '7' {
			digits++
		}
		return digits >= 3 && digits <= 4 && digits < len(rest) && rest[digits] == ' '
	}
	return false
}
