package machine

import (
	"net/netip"
	"testing"
	"time"
)

const (
	safari  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	chrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	appleMl = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
	gmail   = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
	yahoo   = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
)

var (
	delivered = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	later     = delivered.Add(2 * time.Hour)
	homeIP    = netip.MustParseAddr("198.51.100.23")
)

func open(agent string, ip netip.Addr) Event {
	return Event{Kind: Open, At: later, DeliveredAt: delivered, Method: "GET", UserAgent: agent, IP: ip}
}

func click(agent string) Event {
	return Event{Kind: Click, At: later, DeliveredAt: delivered, Method: "GET", UserAgent: agent, IP: homeIP, Link: 1, Links: 4}
}

func TestClassify(t *testing.T) {
	c := New(Config{
		ProxyNetworks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:77::/48")},
		ProxyAgents:   []string{"ExampleMailProxy"},
		ScannerAgents: []string{" CorpScanner "},
		ScannerWindow: 30 * time.Second,
	})
	withMethod := func(e Event, m string) Event { e.Method = m; return e }
	at := func(e Event, d time.Duration) Event { e.At = delivered.Add(d); return e }
	honeypot := click(chrome)
	honeypot.Honeypot = true
	undated := at(click(chrome), time.Second)
	undated.DeliveredAt = time.Time{}
	burst := click(chrome)
	burst.OtherClicks = []OtherClick{{Link: 2, At: later.Add(-time.Second)}, {Link: 3, At: later.Add(1500 * time.Millisecond)}}
	allLinks := click(chrome)
	allLinks.Links = 2
	allLinks.OtherClicks = []OtherClick{{Link: 0, At: later.Add(300 * time.Millisecond)}}
	sameLinkTwice := click(chrome)
	sameLinkTwice.OtherClicks = []OtherClick{{Link: 1, At: later.Add(-time.Second)}, {Link: 1, At: later.Add(-500 * time.Millisecond)}}
	spreadOut := click(chrome)
	spreadOut.OtherClicks = []OtherClick{{Link: 2, At: later.Add(-time.Minute)}, {Link: 3, At: later.Add(-3 * time.Second)}, {Link: 0, At: later.Add(10 * time.Minute)}}

	for _, tc := range []struct {
		name string
		e    Event
		want Reason
	}{
		// People.
		{"open by Apple Mail itself", open(appleMl, homeIP), ""},
		{"open by a browser", open(chrome, homeIP), ""},
		{"open with unknown address", open(safari, netip.Addr{}), ""},
		{"click by a browser", click(chrome), ""},
		{"click from Apple's network", func() Event { e := click(safari); e.IP = netip.MustParseAddr("17.5.7.8"); return e }(), ""},
		{"click after the window", at(click(chrome), 31*time.Second), ""},
		{"click with delivery unknown", undated, ""},
		{"same link clicked again", sameLinkTwice, ""},
		{"links clicked minutes apart", spreadOut, ""},
		{"lower-case get", withMethod(click(chrome), "get"), ""},
		// Privacy proxies.
		{"Apple MPP agent", open("Mozilla/5.0", homeIP), ReasonAppleProxy},
		{"Apple MPP agent with spaces", open(" Mozilla/5.0 ", homeIP), ReasonAppleProxy},
		{"Apple network", open(safari, netip.MustParseAddr("17.58.1.2")), ReasonProxyNetwork},
		{"Apple network, mapped v4", open(safari, netip.MustParseAddr("::ffff:17.58.1.2")), ReasonProxyNetwork},
		{"operator v4 network", open(chrome, netip.MustParseAddr("203.0.113.9")), ReasonProxyNetwork},
		{"operator v6 network", open(chrome, netip.MustParseAddr("2001:db8:77:1::5")), ReasonProxyNetwork},
		{"Google image proxy", open(gmail, homeIP), ReasonGoogleProxy},
		{"old Google proxy", open("Mozilla/5.0 (via ggpht.com)", homeIP), ReasonGoogleProxy},
		{"Yahoo proxy", open(yahoo, homeIP), ReasonYahooProxy},
		{"operator proxy agent", open("examplemailproxy/2.1", homeIP), ReasonProxyAgent},
		// Scanners and programs.
		{"honeypot", honeypot, ReasonHoneypot},
		{"honeypot later still", at(honeypot, 48*time.Hour), ReasonHoneypot},
		{"HEAD click", withMethod(click(chrome), "HEAD"), ReasonHead},
		{"HEAD open", withMethod(open(safari, homeIP), "head"), ReasonHead},
		{"click one second after delivery", at(click(chrome), time.Second), ReasonAfterDelivery},
		{"click before the delivery report", at(click(chrome), -time.Second), ReasonAfterDelivery},
		{"click in the operator's window", at(click(chrome), 29*time.Second), ReasonAfterDelivery},
		{"three links at once", burst, ReasonLinkBurst},
		{"every link at once", allLinks, ReasonLinkBurst},
		{"curl", click("curl/8.5.0"), ReasonScannerAgent},
		{"python-requests", click("python-requests/2.31.0"), ReasonScannerAgent},
		{"Go client", click("Go-http-client/1.1"), ReasonScannerAgent},
		{"headless Chrome", click("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"), ReasonScannerAgent},
		{"Barracuda", click("Mozilla/5.0 (compatible; Barracuda Sentinel)"), ReasonScannerAgent},
		{"BingPreview", click("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b"), ReasonScannerAgent},
		{"crawler on the pixel", open("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", homeIP), ReasonScannerAgent},
		{"operator scanner agent", click("corpscanner 4"), ReasonScannerAgent},
		{"no agent", click(""), ReasonNoAgent},
		{"bare Mozilla/5.0 click", click("Mozilla/5.0"), ReasonScannerAgent},
	} {
		got := c.Classify(tc.e)
		if got.Reason != tc.want || got.Machine != (tc.want != "") {
			t.Errorf("%s: got %+v, want reason %q", tc.name, got, tc.want)
		}
	}
}

func TestDefaultWindow(t *testing.T) {
	c := New(Config{})
	e := click(chrome)
	e.At = delivered.Add(9 * time.Second)
	if v := c.Classify(e); v.Reason != ReasonAfterDelivery {
		t.Errorf("9 s after delivery: %+v", v)
	}
	e.At = delivered.Add(10 * time.Second)
	if v := c.Classify(e); v.Machine {
		t.Errorf("10 s after delivery: %+v", v)
	}
	// The operator's networks add to the built-in ones; the built-in lists are fresh copies.
	BuiltinProxyNetworks()[0] = netip.MustParsePrefix("10.0.0.0/8")
	if v := c.Classify(open(safari, netip.MustParseAddr("17.0.0.1"))); v.Reason != ReasonProxyNetwork {
		t.Errorf("Apple network without configuration: %+v", v)
	}
}
