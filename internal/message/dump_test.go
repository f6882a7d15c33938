package message

import (
	"fmt"
	"strings"
)

// dump renders a part tree, one part a line with its section, for test failures and expectations.
func dump(p *Part) string {
	var b strings.Builder
	dumpPart(&b, p, "")
	return b.String()
}

func dumpPart(b *strings.Builder, p *Part, section string) {
	name := section
	if name == "" {
		name = "root"
	}
	fmt.Fprintf(b, "%s %s/%s [%d %d %d] lines=%d", name, p.Type, p.Subtype, p.HeaderStart, p.BodyStart, p.BodyEnd, p.Lines)
	for _, prm := range p.Params {
		fmt.Fprintf(b, " %s=%q", prm.Name, prm.Value)
	}
	b.WriteString("\n")
	prefix := section
	if prefix != "" {
		prefix += "."
	}
	for i, c := range p.Parts {
		dumpPart(b, c, fmt.Sprintf("%s%d", prefix, i+1))
	}
	if p.Message != nil {
		dumpPart(b, p.Message, prefix+"msg")
	}
}
