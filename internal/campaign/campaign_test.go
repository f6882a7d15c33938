package campaign

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"posthorn/internal/operr"
	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

func newService(t *testing.T) *Service { return newServiceB(t) }

// newServiceB returns a Service on a new SQLite store, closed at the end of the test.
func newServiceB(t testing.TB) *Service {
	t.Helper()
	return &Service{Store: storeenv.OpenStore(t, filepath.Join(t.TempDir(), "posthorn.db"))}
}

func mustList(t *testing.T, s *Service, name, optIn string) store.List {
	t.Helper()
	l, err := s.CreateList(t.Context(), ListInput{Name: name, OptIn: optIn})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestImportCSV: every bad row is reported with its line and reason, the rest is imported
// with its name and attributes and a consent record of the import.
func TestImportCSV(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	mustList(t, s, "news", "")
	if _, err := s.Suppress(ctx, SuppressionInput{Address: "gone@example.org", Reason: store.SuppressHardBounce}); err != nil {
		t.Fatal(err)
	}
	file := "Email,Name,city,plan\r\n" +
		"ann@example.org,Ann,Oslo,gold\r\n" + // 2
		"not-an-address,Bob,Rome,free\r\n" + // 3
		"ANN@example.org,Ann again,Oslo,gold\r\n" + // 4: duplicate of 2
		"gone@example.org,Gone,Paris,free\r\n" + // 5: suppressed
		"\"eve@example.org\",\"Eve\r\nBcc: victim@example.org\",Lyon,free\r\n" + // 6-7: CRLF in the name
		"short@example.org,Short\r\n" + // 8: too few fields
		"carl@example.org,\"Carl, Jr.\",Bern,\r\n" // 9
	var progress []Progress
	report, err := s.ImportCSV(ctx, strings.NewReader(file), CSVInput{List: "news", ConsentText: "opted in at the fair"},
		ImportOptions{Size: int64(len(file)), Progress: func(p Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	type rej struct {
		line   int
		reason string
	}
	var got []rej
	for _, r := range report.Rejected {
		got = append(got, rej{r.Line, r.Reason})
	}
	want := []rej{{3, ReasonBadAddress}, {4, ReasonDuplicate}, {6, ReasonBadRow}, {8, ReasonBadRow}, {5, ReasonSuppressed}}
	if !slices.Equal(got, want) {
		t.Errorf("rejected %+v, want %v", report.Rejected, want)
	}
	if report.Rows != 7 || report.Imported != 2 || report.Rejects != 5 {
		t.Errorf("report = %+v", report)
	}
	if len(progress) == 0 || progress[len(progress)-1] != (Progress{Rows: 7, Bytes: int64(len(file)), Total: int64(len(file))}) {
		t.Errorf("progress = %+v", progress)
	}
	entries, err := s.Subscribers(ctx, "news", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("imported %+v", entries)
	}
	ann, carl := entries[0], entries[1]
	if ann.Address != "ann@example.org" || ann.Name != "Ann" || ann.Attributes["city"] != "Oslo" ||
		ann.Attributes["plan"] != "gold" || ann.Subscription.Status != store.StatusConfirmed ||
		ann.Subscription.Consent.Source != store.SourceImport || ann.Subscription.Consent.Text != "opted in at the fair" {
		t.Errorf("ann = %+v", ann)
	}
	if carl.Name != "Carl, Jr." || carl.Attributes["plan"] != "" {
		t.Errorf("carl = %+v", carl)
	}
}

// TestImportCSVBatches: a file of several batches streams through, with progress per batch,
// and the rejections through the callback.
func TestImportCSVBatches(t *testing.T) {
	s := newService(t)
	mustList(t, s, "big", "double")
	var b strings.Builder
	b.WriteString("email\n")
	n := 2*ImportBatch + 7
	for i := range n {
		if i%100 == 99 {
			b.WriteString("broken\n")
			continue
		}
		b.WriteString("user" + strings.Repeat("x", i%3) + "-" + strconv.Itoa(i) + "@example.org\n")
	}
	var rejected []int
	calls := 0
	report, err := s.ImportCSV(t.Context(), strings.NewReader(b.String()), CSVInput{List: "big", Confirmed: true},
		ImportOptions{Progress: func(Progress) { calls++ }, Reject: func(r Rejection) { rejected = append(rejected, r.Line) }})
	if err != nil {
		t.Fatal(err)
	}
	if report.Imported != n-len(rejected) || len(rejected) != n/100 || report.Rejected != nil || calls < 2 {
		t.Errorf("report %+v, rejected %v, %d progress calls", report, rejected, calls)
	}
	if rejected[0] != 101 { // data row 100 is line 101
		t.Errorf("first rejection on line %d", rejected[0])
	}
	summary, err := s.Lists(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if summary[0].Counts[store.StatusConfirmed] != int64(report.Imported) {
		t.Errorf("counts = %v", summary[0].Counts)
	}
}

func TestImportCSVHeader(t *testing.T) {
	s := newService(t)
	mustList(t, s, "news", "")
	for _, tc := range []struct{ file, want string }{
		{"", "the file is empty: want a header row"},
		{"name,city\nAnn,Oslo\n", "the header row has no email column"},
		{"email,first name\n", `header column "first name": want email, name or an attribute name`},
		{"email,city,City\n", `the header names column "City" twice`},
	} {
		_, err := s.ImportCSV(t.Context(), strings.NewReader(tc.file), CSVInput{List: "news"}, ImportOptions{})
		if _, ok := operr.As(err, operr.Invalid, "header"); !ok && !strings.Contains(tc.want, "empty") {
			t.Errorf("%q: err %v is not an invalid header", tc.file, err)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.file, err, tc.want)
		}
	}
	_, err := s.ImportCSV(t.Context(), strings.NewReader("email\n"), CSVInput{List: "nope"}, ImportOptions{})
	if _, ok := operr.As(err, operr.NotFound, "list"); !ok {
		t.Errorf("import into an unknown list: %v", err)
	}
}

// TestSubscriberNames: a CR or LF (or any control character) in a name is refused, so a name
// can never add a header field; attribute keys must be identifiers.
func TestSubscriberNames(t *testing.T) {
	s := newService(t)
	mustList(t, s, "news", "")
	for _, name := range []string{"Eve\r\nBcc: victim@example.org", "Eve\nX", "Eve\rX", "Eve\x00", "Eve\x1b[31m", "Eve\u0085"} {
		_, err := s.SaveSubscriber(t.Context(), SubscriberInput{Address: "eve@example.org", Name: name, List: "news"})
		if _, ok := operr.As(err, operr.Invalid, "name"); !ok {
			t.Errorf("name %q: err %v", name, err)
		}
	}
	for _, key := range []string{"", "1st", "first name", "a-b", "x:y", "é"} {
		_, err := s.SaveSubscriber(t.Context(), SubscriberInput{Address: "eve@example.org",
			Attributes: map[string]any{key: "v"}})
		if _, ok := operr.As(err, operr.Invalid, "attributes"); !ok {
			t.Errorf("attribute key %q: err %v", key, err)
		}
	}
	sub, err := s.SaveSubscriber(t.Context(), SubscriberInput{Address: "Eve@Example.ORG", Name: "Ève Dupont",
		Attributes: map[string]any{"_plan": "gold", "city2": "Lyon"}, List: "news", IP: "192.0.2.77"})
	if err != nil {
		t.Fatal(err)
	}
	_, subs, err := s.Subscriber(t.Context(), sub.Address)
	if err != nil || sub.Address != "eve@example.org" || len(subs) != 1 || subs[0].Consent.IP != "192.0.2.0" ||
		subs[0].Consent.Source != store.SourceCLI {
		t.Errorf("saved %+v %+v, %v", sub, subs, err)
	}
}

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77":            "192.0.2.0",
		"::ffff:192.0.2.77":     "192.0.2.0",
		"2001:db8:1234:5678::1": "2001:db8:1234::",
		"not an ip":             "",
		"":                      "",
	} {
		if got := TruncateIP(in); got != want {
			t.Errorf("TruncateIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportRoundTrip: what ExportCSV writes, ImportCSV reads back into the same subscribers;
// unsubscribed people are left out.
func TestExportRoundTrip(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	mustList(t, s, "news", "")
	mustList(t, s, "copy", "")
	file := "email,name,city,zip\n" +
		"ann@example.org,\"Ann \"\"the first\"\"\",Oslo,0150\n" +
		"bob@example.org,\"Bob, Jr.\",\"Rome\nItaly\",\n" +
		"carl@example.org,,Bern,3000\n" +
		"dora@example.org,Dora,Linz,4020\n"
	if _, err := s.ImportCSV(ctx, strings.NewReader(file), CSVInput{List: "news"}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, SubscriberInput{Address: "dora@example.org", List: "news"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := s.ExportCSV(ctx, "news", &out)
	if err != nil || n != 3 {
		t.Fatalf("export = %d, %v", n, err)
	}
	want := "email,name,city,zip\n" +
		"ann@example.org,\"Ann \"\"the first\"\"\",Oslo,0150\n" +
		"bob@example.org,\"Bob, Jr.\",\"Rome\nItaly\",\n" +
		"carl@example.org,,Bern,3000\n"
	if out.String() != want {
		t.Errorf("export:\n%s\nwant:\n%s", out.String(), want)
	}
	report, err := s.ImportCSV(ctx, bytes.NewReader(out.Bytes()), CSVInput{List: "copy"}, ImportOptions{})
	if err != nil || report.Imported != 3 || report.Rejects != 0 {
		t.Fatalf("re-import = %+v, %v", report, err)
	}
	var again bytes.Buffer
	if _, err := s.ExportCSV(ctx, "copy", &again); err != nil || again.String() != want {
		t.Errorf("export of the copy = %q, %v", again.String(), err)
	}
}

func TestSuppressions(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	mustList(t, s, "news", "")
	if _, err := s.Suppress(ctx, SuppressionInput{Address: "x@example.org", Reason: "bogus"}); err == nil {
		t.Error("a bogus reason was accepted")
	}
	if _, err := s.Suppress(ctx, SuppressionInput{Address: "x@example.org", Expires: time.Now().Add(-time.Hour)}); err == nil {
		t.Error("an expiry in the past was accepted")
	}
	file := "# bounced last year\nA@example.org\n\nnot an address\nb@example.org\n"
	report, err := s.ImportSuppressions(ctx, strings.NewReader(file), SuppressionInput{Reason: store.SuppressHardBounce,
		Source: "old system"}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if report.Imported != 2 || len(report.Rejected) != 1 || report.Rejected[0].Line != 4 ||
		report.Rejected[0].Reason != ReasonBadAddress {
		t.Errorf("report = %+v", report)
	}
	sup, ok, err := s.IsSuppressed(ctx, "a@example.org")
	if err != nil || !ok || sup.Reason != store.SuppressHardBounce || sup.Source != "old system" {
		t.Errorf("a: %+v %v %v", sup, ok, err)
	}
	list, err := s.Suppressions(ctx, "", 10)
	if err != nil || len(list) != 2 {
		t.Errorf("list = %+v, %v", list, err)
	}
	if err := s.Unsuppress(ctx, "a@example.org"); err != nil {
		t.Fatal(err)
	}
	err = s.Unsuppress(ctx, "a@example.org")
	if _, ok := operr.As(err, operr.NotFound, "address"); !ok || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second unsuppress: %v", err)
	}
}

func TestLists(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	mustList(t, s, "news", "double")
	if _, err := s.CreateList(ctx, ListInput{Name: "news"}); err == nil || err.Error() != "list news already exists" {
		t.Errorf("second list: %v", err)
	}
	if _, err := s.CreateList(ctx, ListInput{Name: "x", OptIn: "triple"}); err == nil {
		t.Error("opt-in triple accepted")
	}
	if _, err := s.SaveSubscriber(ctx, SubscriberInput{Address: "a@example.org", List: "news"}); err != nil {
		t.Fatal(err)
	}
	lists, err := s.Lists(ctx)
	if err != nil || len(lists) != 1 || lists[0].Counts[store.StatusUnconfirmed] != 1 {
		t.Errorf("lists = %+v, %v", lists, err)
	}
	sub, subs, err := s.Subscriber(ctx, "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, sub.ID, subs[0].ListID, SubscriberInput{Source: store.SourceForm, IP: "2001:db8::1"}); err != nil {
		t.Fatal(err)
	}
	if _, subs, _ := s.Subscriber(ctx, "a@example.org"); subs[0].Status != store.StatusConfirmed || subs[0].Consent.IP != "2001:db8::" {
		t.Errorf("after confirm: %+v", subs)
	}
	if err := s.DeleteList(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteList(ctx, "news"); err == nil || err.Error() != "unknown list news" {
		t.Errorf("second delete: %v", err)
	}
	if err := s.DeleteSubscriber(ctx, "a@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscriber(ctx, "a@example.org"); err == nil || err.Error() != "unknown subscriber a@example.org" {
		t.Errorf("second delete: %v", err)
	}
}
