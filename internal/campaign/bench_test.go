package campaign

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
)

// BenchmarkImportCSV imports a file of 20,000 subscribers with two attributes into a new list,
// then builds a campaign's send ledger from it; it reports both rates.
func BenchmarkImportCSV(b *testing.B) {
	const rows = 20000
	var file strings.Builder
	file.WriteString("email,name,city,plan\n")
	for i := range rows {
		fmt.Fprintf(&file, "user%d@example.org,User %d,City %d,gold\n", i, i, i%50)
	}
	data := file.String()
	var importTime, fillTime time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		s := newServiceB(b)
		list := fmt.Sprintf("list%d", i)
		if _, err := s.CreateList(b.Context(), ListInput{Name: list}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		report, err := s.ImportCSV(b.Context(), strings.NewReader(data), CSVInput{List: list}, ImportOptions{})
		if err != nil || report.Imported != rows {
			b.Fatalf("import: %+v, %v", report, err)
		}
		importTime += time.Since(start)
		l, err := s.Store.GetList(b.Context(), list)
		if err != nil {
			b.Fatal(err)
		}
		c, err := s.Store.CreateCampaign(b.Context(), store.Campaign{Name: "c", ListIDs: []int64{l.ID}})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if n, err := s.Store.FillRecipients(b.Context(), c.ID); err != nil || n != rows {
			b.Fatalf("fill: %d, %v", n, err)
		}
		fillTime += time.Since(start)
	}
	b.ReportMetric(float64(rows*b.N)/importTime.Seconds(), "import-rows/s")
	b.ReportMetric(float64(rows*b.N)/fillTime.Seconds(), "fill-rows/s")
}
