package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The corpus of `mailbench fill`: message n of seed s is the same on every run, so two servers
// filled with the same seed hold the same mail and the same searches find the same messages.
// Messages are text/plain, 2 to 4 KiB with the header, with subjects and bodies drawn from word
// lists. Every subject has 3 to 7 of the subjectWords (so one of them is in about 3% of the
// subjects); every body has one reference code, one of 1,000 made-up words (so one code is in
// about 0.1% of the bodies) that appears nowhere else.

const (
	// defaultHeaderTerm is a subject word of the corpus, the default of imap --header-term.
	defaultHeaderTerm = "invoice"
	// defaultBodyTerm is reference code 42 of the corpus, the default of imap --body-term.
	defaultBodyTerm = "qkapemi"
	// corpusCodes is the number of reference codes.
	corpusCodes = 1000
	// corpusMinSize and corpusMaxSize bound the size of a message, header included, in octets
	// with CRLF line ends.
	corpusMinSize = 2048
	corpusMaxSize = 4096
	// corpusStep is the time between the Date of message n and of message n+1.
	corpusStep = 137 * time.Second
)

// corpusEpoch is the Date of message 0.
var corpusEpoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

var (
	subjectWords = strings.Fields(`
		agenda account analysis approval archive audit backup badge benchmark billing board
		booking branch budget build calendar campaign catalog certificate change checklist
		client cluster committee compliance conference contract coverage customer dashboard
		deadline delivery demo deployment design draft estimate event expense feedback
		forecast funding garden handover hardware hiring holiday incident inventory invoice
		kickoff laptop launch lease license logistics lunch maintenance meeting migration
		milestone minutes network newsletter offsite onboarding order outage overtime parking
		partner payroll pension permit picnic pipeline policy portal pricing printer priority
		procurement project proposal prototype quarter quote receipt recruiting refund release
		renewal report request review roadmap rollout safety salary schedule security seminar
		server shipment signature sprint staffing storage strategy submission supplier survey
		team ticket timesheet training travel upgrade vacation vendor visit warehouse webinar
		website workshop`)
	subjectLeads = []string{"", "", "", "", "Re: ", "Re: ", "Fwd: ", "Question about ", "Update on ", "Reminder: "}
	bodyWords    = strings.Fields(`
		a about above after again all also always an and another any are around as at away
		back be because been before being below between both but by came can come could day
		did different do does down each end even every few find first for found from get give
		go good great had has have he help her here high him his home house how i if in into
		is it its just keep kind know large last left let life line little long look made make
		man many may me men might more most much must my name near need never new next night
		no not now number of off often old on once one only open or other our out over own
		page paper part people place play point put read right room said same saw say see
		seem set should show side since small so some something sound still study such take
		tell than that the their them then there these they thing think this those thought
		three through time to together too took tree try turn two under until up upon us use
		very want was water way we well went were what when where which while white who why
		will with without word work world would write year you young your`)
	firstNames    = strings.Fields(`Ada Alan Barbara Carl Dana Edsger Frances Grace Hedy Ivan Joan Ken Linus Margaret Niklaus Olga Peter Radia Shafi Tim Ursula Vint Whitfield Xia Yukihiro Zoe`)
	lastNames     = strings.Fields(`Allen Backus Cerf Dijkstra Floyd Goldwasser Hamilton Hopper Kay Knuth Lamport Liskov Lovelace McCarthy Perlman Ritchie Shaw Sutherland Thompson Torvalds Turing Wirth`)
	senderDomains = strings.Fields(`example.com example.net example.org mail.example corp.example lists.example`)
	codeSyllables = strings.Fields(`ka lo mi nu pe ro si tu va zo`)
)

// corpusCode returns reference code k (0 <= k < corpusCodes): "q" and three syllables, a word
// of 7 letters that is in no word list and no other code.
func corpusCode(k int) string {
	return "q" + codeSyllables[k/100%10] + codeSyllables[k/10%10] + codeSyllables[k%10]
}

// corpusMessage returns message n of seed: its octets, with CRLF line ends, and its Date.
func corpusMessage(seed uint64, n int, to string) ([]byte, time.Time) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	pick := func(words []string) string { return words[rng.IntN(len(words))] }
	date := corpusEpoch.Add(time.Duration(n) * corpusStep)
	first, last := pick(firstNames), pick(lastNames)

	subject := make([]string, 3+rng.IntN(5))
	for i := range subject {
		subject[i] = pick(subjectWords)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: %s %s <%s.%s@%s>\r\n", first, last, strings.ToLower(first), strings.ToLower(last), pick(senderDomains))
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s%s\r\n", pick(subjectLeads), strings.Join(subject, " "))
	fmt.Fprintf(&b, "Message-ID: <fill-%d-%d@mailbench.invalid>\r\n", seed, n)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	fmt.Fprintf(&b, "Hello,\r\n\r\nReference: %s\r\n\r\n", corpusCode(rng.IntN(corpusCodes)))

	size := corpusMinSize + rng.IntN(corpusMaxSize-corpusMinSize+1)
	signature := fmt.Sprintf("\r\n-- \r\n%s %s\r\n", first, last)
	line := 0
	for b.Len()+len(signature) < size {
		word := pick(bodyWords)
		switch {
		case line+1+len(word) > bodyLineLength:
			b.WriteString("\r\n")
			line = 0
			if rng.IntN(6) == 0 {
				b.WriteString("\r\n") // a paragraph ends
			}
		case line > 0:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	b.WriteString("\r\n")
	b.WriteString(signature)
	return b.Bytes(), date
}
