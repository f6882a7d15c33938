package importer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Maildir is a Maildir++ tree: the directory's own cur and new are INBOX, and every ".A.B"
// directory beside them is folder A/B (names in modified UTF-7, as Dovecot writes them). A
// message's flags are the letters of its name's ":2," info (S \Seen, R \Answered, F \Flagged,
// T \Deleted, D \Draft; a to z the keywords of Dovecot's dovecot-keywords file, when the
// folder has one); its internal date is the file's modification time, as Dovecot keeps it,
// or the time at the start of its name if it has none. Messages are taken in the order of their
// names, which start with the time of delivery.
type Maildir struct {
	Path string
}

// Count implements Counter.
func (m Maildir) Count(ctx context.Context) (int64, error) {
	var n int64
	err := m.folders(func(dir string, f Folder) error {
		for _, sub := range []string{"cur", "new"} {
			entries, err := os.ReadDir(filepath.Join(dir, sub))
			if err != nil && !os.IsNotExist(err) {
				return err
			}
			n += int64(len(entries))
		}
		return nil
	})
	return n, err
}

// Walk implements Source.
func (m Maildir) Walk(ctx context.Context, visit func(Message) error) error {
	return m.folders(func(dir string, f Folder) error {
		keywords, err := readDovecotKeywords(dir)
		if err != nil {
			return err
		}
		for _, sub := range []string{"cur", "new"} {
			entries, err := os.ReadDir(filepath.Join(dir, sub))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read maildir folder: %w", err)
			}
			for _, e := range entries {
				if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := visitMaildirFile(filepath.Join(dir, sub, e.Name()), f, keywords, visit); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func visitMaildirFile(path string, f Folder, keywords map[byte]string, visit func(Message) error) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open maildir message: %w", err)
	}
	defer file.Close()
	name := filepath.Base(path)
	var date time.Time
	if st, err := file.Stat(); err == nil && st.ModTime().Unix() > 0 {
		date = st.ModTime()
	} else if secs, err := strconv.ParseInt(strings.SplitN(name, ".", 2)[0], 10, 64); err == nil {
		date = time.Unix(secs, 0)
	}
	return visit(Message{Folder: f, Flags: maildirFlags(name, keywords), InternalDate: date, Body: file})
}

// folders calls fn for INBOX and each Maildir++ subfolder, sorted by name.
func (m Maildir) folders(fn func(dir string, f Folder) error) error {
	entries, err := os.ReadDir(m.Path)
	if err != nil {
		return fmt.Errorf("read maildir: %w", err)
	}
	if err := fn(m.Path, Folder{Name: "INBOX"}); err != nil {
		return err
	}
	var subs []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && e.Name() != "." && e.Name() != ".." {
			subs = append(subs, e.Name())
		}
	}
	sort.Strings(subs)
	for _, sub := range subs {
		name, err := decodeMUTF7(strings.ReplaceAll(strings.TrimPrefix(sub, "."), ".", "/"))
		if err != nil {
			return fmt.Errorf("maildir folder %q: %w", sub, err)
		}
		if err := fn(filepath.Join(m.Path, sub), Folder{Name: name, SpecialUse: useByName(name)}); err != nil {
			return err
		}
	}
	return nil
}

// maildirFlags reads the flags of a message's name: "unique:2,FLAGS" (the Maildir
// specification's info), "," separating the letters in some writers' names.
func maildirFlags(name string, keywords map[byte]string) []string {
	_, info, ok := strings.Cut(name, ":2,")
	if !ok {
		return nil
	}
	var flags []string
	for i := 0; i < len(info); i++ {
		switch c := info[i]; c {
		case 'S':
			flags = append(flags, `\Seen`)
		case 'R':
			flags = append(flags, `\Answered`)
		case 'F':
			flags = append(flags, `\Flagged`)
		case 'T':
			flags = append(flags, `\Deleted`)
		case 'D':
			flags = append(flags, `\Draft`)
		default:
			if kw, ok := keywords[c]; ok {
				flags = append(flags, kw)
			}
		}
	}
	return flags
}

// readDovecotKeywords reads a folder's dovecot-keywords file: lines "N keyword", the keyword
// of letter 'a'+N; none when the file is missing.
func readDovecotKeywords(dir string) (map[byte]string, error) {
	f, err := os.Open(filepath.Join(dir, "dovecot-keywords"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dovecot-keywords: %w", err)
	}
	defer f.Close()
	out := map[byte]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		num, kw, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		n, err := strconv.Atoi(num)
		if ok && err == nil && n >= 0 && n < 26 && kw != "" {
			out[byte('a'+n)] = kw
		}
	}
	return out, sc.Err()
}

// useByName is the special use of a Maildir++ folder by its usual names, which is all a
// Maildir says of it.
func useByName(name string) string {
	switch strings.ToLower(name) {
	case "sent", "sent items", "sent messages":
		return `\Sent`
	case "drafts":
		return `\Drafts`
	case "trash", "deleted items", "deleted messages":
		return `\Trash`
	case "junk", "spam":
		return `\Junk`
	case "archive":
		return `\Archive`
	}
	return ""
}
