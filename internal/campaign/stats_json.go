package campaign

import (
	"encoding/json"
	"io"
)

// WriteStatsJSON writes st as JSON, indented by two spaces and ended by a newline: the one
// form `posthorn campaign stats ID --json` prints and GET /api/v1/campaigns/{id}/stats
// answers, byte for byte.
func WriteStatsJSON(w io.Writer, st Stats) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}
