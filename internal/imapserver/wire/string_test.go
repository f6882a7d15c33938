package wire

import (
	"bufio"
	"testing"
)

func TestStrings(t *testing.T) {
	tests := []struct {
		in      string
		utf8    bool
		str     string // WriteString
		nstr    string // WriteNString
		astr    string // WriteAString
		form    StringForm
		astring StringForm
	}{
		{"", false, `""`, "NIL", `""`, Quoted, Quoted},
		{"INBOX", false, `"INBOX"`, `"INBOX"`, "INBOX", Quoted, Atom},
		{"NIL", false, `"NIL"`, `"NIL"`, `"NIL"`, Quoted, Quoted},
		{"nil", false, `"nil"`, `"nil"`, `"nil"`, Quoted, Quoted},
		{"nils", false, `"nils"`, `"nils"`, "nils", Quoted, Atom},
		{"a]b", false, `"a]b"`, `"a]b"`, "a]b", Quoted, Atom},
		{"a b", false, `"a b"`, `"a b"`, `"a b"`, Quoted, Quoted},
		{"50%", false, `"50%"`, `"50%"`, `"50%"`, Quoted, Quoted},
		{"(x)", false, `"(x)"`, `"(x)"`, `"(x)"`, Quoted, Quoted},
		{"{3}", false, `"{3}"`, `"{3}"`, `"{3}"`, Quoted, Quoted},
		{`\Seen`, false, `"\\Seen"`, `"\\Seen"`, `"\\Seen"`, Quoted, Quoted},
		{`say "hi"`, false, `"say \"hi\""`, `"say \"hi\""`, `"say \"hi\""`, Quoted, Quoted},
		{`""""`, false, `"\"\"\"\""`, `"\"\"\"\""`, `"\"\"\"\""`, Quoted, Quoted},
		{`"""""`, false, "{5}\r\n\"\"\"\"\"", "{5}\r\n\"\"\"\"\"", "{5}\r\n\"\"\"\"\"", Literal, Literal},
		{"a\r\nb", false, "{4}\r\na\r\nb", "{4}\r\na\r\nb", "{4}\r\na\r\nb", Literal, Literal},
		{"a\nb", true, "{3}\r\na\nb", "{3}\r\na\nb", "{3}\r\na\nb", Literal, Literal},
		{"a\x00b", true, "{3}\r\na\x80b", "{3}\r\na\x80b", "{3}\r\na\x80b", Literal, Literal},
		{"tab\there", false, "\"tab\there\"", "\"tab\there\"", "\"tab\there\"", Quoted, Quoted},
		{"café", false, "{5}\r\ncafé", "{5}\r\ncafé", "{5}\r\ncafé", Literal, Literal},
		{"café", true, `"café"`, `"café"`, `"café"`, Quoted, Quoted},
		{"caf\xe9", true, "{4}\r\ncaf\xe9", "{4}\r\ncaf\xe9", "{4}\r\ncaf\xe9", Literal, Literal},
	}
	for _, tt := range tests {
		if got := ChooseString(tt.in, tt.utf8); got != tt.form {
			t.Errorf("ChooseString(%q, %v) = %v, want %v", tt.in, tt.utf8, got, tt.form)
		}
		if got := ChooseString([]byte(tt.in), tt.utf8); got != tt.form {
			t.Errorf("ChooseString([]byte(%q), %v) = %v, want %v", tt.in, tt.utf8, got, tt.form)
		}
		if got := ChooseAString(tt.in, tt.utf8); got != tt.astring {
			t.Errorf("ChooseAString(%q, %v) = %v, want %v", tt.in, tt.utf8, got, tt.astring)
		}
		for _, c := range []struct {
			name  string
			write func(w *bufio.Writer)
			want  string
		}{
			{"WriteString", func(w *bufio.Writer) { WriteString(w, tt.in, tt.utf8) }, tt.str},
			{"WriteString bytes", func(w *bufio.Writer) { WriteString(w, []byte(tt.in), tt.utf8) }, tt.str},
			{"WriteNString", func(w *bufio.Writer) { WriteNString(w, tt.in, tt.utf8) }, tt.nstr},
			{"WriteNString bytes", func(w *bufio.Writer) { WriteNString(w, []byte(tt.in), tt.utf8) }, tt.nstr},
			{"WriteAString", func(w *bufio.Writer) { WriteAString(w, tt.in, tt.utf8) }, tt.astr},
		} {
			got := render(t, c.write)
			if got != c.want {
				t.Errorf("%s(%q, %v) = %q, want %q", c.name, tt.in, tt.utf8, got, c.want)
			}
			if c.name == "WriteAString" && tt.astring == Atom {
				continue // the test's reader reads no atoms but numbers
			}
			if _, err := readValue(got, tt.utf8); err != nil {
				t.Errorf("%s(%q): not well-formed: %v", c.name, tt.in, err)
			}
		}
	}
}

// A named string type works as a string.
type flagName string

func TestNamedTypes(t *testing.T) {
	got := render(t, func(w *bufio.Writer) { WriteString(w, flagName(`a"b`), false) })
	if want := `"a\"b"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"":           "{0}\r\n",
		"x":          "{1}\r\nx",
		"a\x00\x00b": "{4}\r\na\x80\x80b",
		"line\r\n":   "{6}\r\nline\r\n",
	} {
		if got := render(t, func(w *bufio.Writer) { WriteLiteral(w, in) }); got != want {
			t.Errorf("WriteLiteral(%q) = %q, want %q", in, got, want)
		}
		if got := render(t, func(w *bufio.Writer) { WriteLiteral(w, []byte(in)) }); got != want {
			t.Errorf("WriteLiteral([]byte(%q)) = %q, want %q", in, got, want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{nil, "()"},
		{[]string{`\Seen`}, `(\Seen)`},
		{[]string{`\Answered`, `\Flagged`, "$Forwarded", "Junk"}, `(\Answered \Flagged $Forwarded Junk)`},
	} {
		if got := render(t, func(w *bufio.Writer) { WriteFlags(w, tt.flags) }); got != tt.want {
			t.Errorf("WriteFlags(%q) = %q, want %q", tt.flags, got, tt.want)
		}
	}
}
