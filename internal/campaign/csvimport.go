package campaign

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// ImportBatch is the number of rows an import checks against the suppression ledger and
// writes in one transaction.
const ImportBatch = 500

// Why an import rejects a row.
const (
	ReasonBadAddress = "bad address"
	ReasonBadRow     = "bad row" // malformed CSV, wrong number of fields, a bad name or attribute
	ReasonDuplicate  = "duplicate"
	ReasonSuppressed = "suppressed"
)

// Rejection is one row an import left out.
type Rejection struct {
	Line    int    // the row's line number in the file, from 1 (the header is line 1)
	Address string // as given
	Reason  string // one of the Reason constants
	Detail  string // what exactly: the parse error, the line duplicated, the suppression reason
}

// Progress is how far an import is: rows read, bytes read of the total (0 when unknown).
type Progress struct {
	Rows  int
	Bytes int64
	Total int64
}

// ImportOptions are what the caller watches an import with; every field is optional.
type ImportOptions struct {
	// Size is the input's size in bytes, for Progress.Total.
	Size int64
	// Progress is called after every batch and at the end.
	Progress func(Progress)
	// Reject is called for every rejected row, in file order within a batch except for the
	// suppressed rows, which the batch's suppression check reports after the others. When
	// nil, the rejections are collected in ImportReport.Rejected instead.
	Reject func(Rejection)
}

// ImportReport says what an import did.
type ImportReport struct {
	Rows     int // data rows read
	Imported int
	Rejected []Rejection // when ImportOptions.Reject is nil
	// Rejects counts the rejected rows, whether collected or not.
	Rejects int
}

// reporter hands rejections and progress to the caller's callbacks.
type reporter struct {
	opts   ImportOptions
	report *ImportReport
}

func (r reporter) reject(rej Rejection) {
	r.report.Rejects++
	if r.opts.Reject != nil {
		r.opts.Reject(rej)
		return
	}
	r.report.Rejected = append(r.report.Rejected, rej)
}

func (r reporter) progress(bytes int64) {
	if r.opts.Progress != nil {
		r.opts.Progress(Progress{Rows: r.report.Rows, Bytes: bytes, Total: r.opts.Size})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// CSVInput is a CSV import into a list: the consent every imported row is given (source
// import), and whether a double opt-in list's rows count as confirmed.
type CSVInput struct {
	List        string
	ConsentText string
	Tracking    bool
	Confirmed   bool
}

// csvHeader maps the header row's columns: email (required), name, and attributes.
type csvHeader struct {
	email, name int // column indexes; name -1 when absent
	attrs       []string
	attrCols    []int
}

func parseHeader(row []string) (csvHeader, error) {
	h := csvHeader{email: -1, name: -1}
	seen := map[string]bool{}
	for i, col := range row {
		col = strings.TrimSpace(strings.TrimPrefix(col, "\ufeff")) // a BOM some spreadsheets write
		key := strings.ToLower(col)
		if seen[key] {
			return h, operr.New(operr.Invalid, "header", col, nil, "the header names column %q twice", col)
		}
		seen[key] = true
		switch key {
		case "email":
			h.email = i
		case "name":
			h.name = i
		default:
			if err := CheckAttributeKey(col); err != nil {
				return h, operr.New(operr.Invalid, "header", col, nil, "header column %q: want email, name or an attribute "+
					"name (letters, digits and _, not starting with a digit)", col)
			}
			h.attrs, h.attrCols = append(h.attrs, col), append(h.attrCols, i)
		}
	}
	if h.email < 0 {
		return h, operr.New(operr.Invalid, "header", strings.Join(row, ","), nil, "the header row has no email column")
	}
	return h, nil
}

// ImportCSV imports a CSV file (RFC 4180; a header row naming the columns: email required,
// name optional, every other column an attribute) into a list. See the package doc for how it
// streams; a row is rejected for a bad address, a bad name or attribute, a duplicate of an
// earlier row, or a suppressed address, and the others are imported. An error in the header
// or in reading stops the import; the batches already written stay.
func (s *Service) ImportCSV(ctx context.Context, r io.Reader, in CSVInput, opts ImportOptions) (ImportReport, error) {
	l, err := s.list(ctx, in.List)
	if err != nil {
		return ImportReport{}, err
	}
	c, err := s.consentOf(SubscriberInput{Source: store.SourceImport, ConsentText: in.ConsentText, Tracking: in.Tracking})
	if err != nil {
		return ImportReport{}, err
	}
	counted := &countingReader{r: r}
	cr := csv.NewReader(counted)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	row, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return ImportReport{}, operr.New(operr.Invalid, "file", "", err, "the file is empty: want a header row")
	} else if err != nil {
		return ImportReport{}, operr.New(operr.Invalid, "file", "", err, "header row: %v", err)
	}
	h, err := parseHeader(row)
	if err != nil {
		return ImportReport{}, err
	}
	imp := csvImport{s: s, list: l, status: initialStatus(l, in.Confirmed), consent: c, header: h,
		seed: maphash.MakeSeed(), seen: map[uint64]int{}}
	imp.rep = reporter{opts: opts, report: &imp.report}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			imp.report.Rows++
			imp.rep.reject(Rejection{Line: perr.StartLine, Reason: ReasonBadRow, Detail: perr.Err.Error()})
			continue
		} else if err != nil {
			return imp.report, fmt.Errorf("import into %s: %w", l.Name, err)
		}
		imp.report.Rows++
		imp.row(line, row)
		if len(imp.batch) == ImportBatch {
			if err := imp.flush(ctx); err != nil {
				return imp.report, fmt.Errorf("import into %s: %w", l.Name, err)
			}
			imp.rep.progress(counted.n)
		}
	}
	if err := imp.flush(ctx); err != nil {
		return imp.report, fmt.Errorf("import into %s: %w", l.Name, err)
	}
	imp.rep.progress(counted.n)
	return imp.report, s.record(ctx, "subscriber.import", l.Name, audit.Details{"rows": imp.report.Rows,
		"imported": imp.report.Imported, "rejected": imp.report.Rejects, "status": string(imp.status)})
}

// csvImport is one running import.
type csvImport struct {
	s       *Service
	list    store.List
	status  store.SubscriptionStatus
	consent store.Consent
	header  csvHeader
	report  ImportReport
	rep     reporter
	// seen maps the hash of every address accepted so far to its line.
	seed  maphash.Seed
	seen  map[uint64]int
	batch []pendingRow
}

type pendingRow struct {
	line int
	req  store.SubscribeRequest
}

// row checks one data row and adds it to the batch, or rejects it.
func (imp *csvImport) row(line int, row []string) {
	h := imp.header
	given := ""
	if h.email < len(row) {
		given = strings.TrimSpace(row[h.email])
	}
	if len(row) != len(h.attrCols)+1+btoi(h.name >= 0) {
		imp.rep.reject(Rejection{Line: line, Address: given, Reason: ReasonBadRow,
			Detail: fmt.Sprintf("%d fields, want %d", len(row), len(h.attrCols)+1+btoi(h.name >= 0))})
		return
	}
	addr, err := operr.ParseAddress("address", given)
	if err != nil {
		imp.rep.reject(Rejection{Line: line, Address: given, Reason: ReasonBadAddress, Detail: err.Error()})
		return
	}
	sub := store.Subscriber{Address: addr}
	if h.name >= 0 {
		sub.Name = strings.TrimSpace(row[h.name])
		if err := CheckName(sub.Name); err != nil {
			imp.rep.reject(Rejection{Line: line, Address: given, Reason: ReasonBadRow, Detail: err.Error()})
			return
		}
	}
	if len(h.attrs) > 0 {
		sub.Attributes = make(map[string]any, len(h.attrs))
		for i, key := range h.attrs {
			sub.Attributes[key] = row[h.attrCols[i]]
		}
		if err := CheckAttributes(sub.Attributes); err != nil {
			imp.rep.reject(Rejection{Line: line, Address: given, Reason: ReasonBadRow, Detail: err.Error()})
			return
		}
	}
	sum := maphash.String(imp.seed, addr)
	if first, dup := imp.seen[sum]; dup {
		imp.rep.reject(Rejection{Line: line, Address: given, Reason: ReasonDuplicate,
			Detail: fmt.Sprintf("same address as line %d", first)})
		return
	}
	imp.seen[sum] = line
	imp.batch = append(imp.batch, pendingRow{line: line, req: store.SubscribeRequest{Subscriber: sub,
		Status: imp.status, Consent: imp.consent}})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// flush rejects the batch's suppressed addresses and writes the rest in one transaction.
func (imp *csvImport) flush(ctx context.Context) error {
	if len(imp.batch) == 0 {
		return nil
	}
	addrs := make([]string, len(imp.batch))
	for i, p := range imp.batch {
		addrs[i] = p.req.Subscriber.Address
	}
	suppressed, err := imp.s.Store.SuppressedAmong(ctx, addrs, imp.s.now())
	if err != nil {
		return err
	}
	reqs := make([]store.SubscribeRequest, 0, len(imp.batch))
	for _, p := range imp.batch {
		if sup, ok := suppressed[p.req.Subscriber.Address]; ok {
			imp.rep.reject(Rejection{Line: p.line, Address: p.req.Subscriber.Address, Reason: ReasonSuppressed,
				Detail: string(sup.Reason)})
			continue
		}
		reqs = append(reqs, p.req)
	}
	if len(reqs) > 0 {
		if _, err := imp.s.Store.SubscribeToList(ctx, imp.list.ID, reqs); err != nil {
			return err
		}
	}
	imp.report.Imported += len(reqs)
	imp.batch = imp.batch[:0]
	return nil
}
