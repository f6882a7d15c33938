// Package machine tells the opens and clicks that programs make from the ones people make, so
// that campaign statistics can keep machine events in the raw counts and out of the human
// rates. Classify looks at one event and returns a Verdict: Machine and a Reason naming the
// rule that fired, or a human verdict with no reason. It is pure: no network access, no
// clock; the caller passes everything in an Event.
//
// # Opens
//
// An open is a fetch of the tracking pixel. Mail privacy proxies fetch every image of a message
// for the person, whether or not anyone reads it, and hide who fetched it:
//
//   - Apple Mail Privacy Protection (iOS 15, macOS 12 and later) prefetches remote content
//     through Apple's proxies when the message is downloaded, with a user agent that is the
//     bare string "Mozilla/5.0" and nothing else (reported since September 2021, e.g. in
//     ua-parser/uap-core#509). No browser or mail client sends that string alone — Apple Mail
//     itself sends "Mozilla/5.0 (Macintosh; ...) AppleWebKit/...". ReasonAppleProxy.
//   - Apple's proxies fetch from Apple's own network, 17.0.0.0/8, which Apple has held since
//     the 1980s. Apple publishes finer egress ranges, but they are not fetched from the network
//     (a tracking hit must never wait on an HTTP request, and the list would then change
//     under the statistics): the built-in list is BuiltinProxyNetworks, and the operator adds
//     ranges with Config.ProxyNetworks. Networks are applied to opens only: a click from
//     Apple's network is a person at Apple. ReasonProxyNetwork.
//   - Gmail rewrites every image to its image proxy, which fetches with a user agent ending in
//     "(via ggpht.com GoogleImageProxy)" (older logs show only "via ggpht.com"), sometimes at
//     delivery, before anyone reads the message (gophish#1390). ReasonGoogleProxy.
//   - Yahoo Mail's proxy identifies as "YahooMailProxy" (help.yahoo.com SLN28749).
//     ReasonYahooProxy.
//   - Config.ProxyAgents adds substrings for other proxies. ReasonProxyAgent.
//
// A proxy open is not proof that nobody read the message, only that the fetch says nothing
// about it: it is counted as machine, and the human open rate is the rate of opens that do
// say something.
//
// # Clicks
//
// A click is a request for a rewritten link. Link scanners of mail security gateways
// (Microsoft Defender Safe Links, Proofpoint URL Defense, Mimecast, Barracuda) follow every
// link of a message when it arrives, many with ordinary browser user agents, so user agents
// alone do not find them; the timing does:
//
//   - A click within Config.ScannerWindow (default 10 s) of the delivery of the message, when
//     the delivery time is known. A person has to see the notification, open the message and
//     find the link; scanners act while the receiving system still holds the message, which
//     is before or within seconds of our delivery report. ReasonAfterDelivery.
//   - Links of one message clicked at once: within BurstWindow (2 s) of this click the same
//     recipient clicked every link of the message (when it has two or more), or at least
//     BurstLinks (3) distinct links. A person clicks one link, reads, perhaps comes back; a
//     scanner requests them all in a burst. ReasonLinkBurst.
//   - The honeypot link: every campaign message carries one link that no person sees (hidden
//     in the HTML and absent from the text part). Whatever follows it follows links blindly,
//     and it is machine whenever it happens. ReasonHoneypot.
//
// # Both
//
//   - HEAD requests: browsers and mail clients GET; a HEAD checks that a URL answers, which is
//     what link checkers and scanners do. ReasonHead.
//   - Scanner and program user agents (case-insensitive substrings, BuiltinScannerAgents plus
//     Config.ScannerAgents): HTTP libraries (curl, Wget, python-requests, Go-http-client,
//     okhttp, Java, libwww-perl, Apache-HttpClient), headless browsers (HeadlessChrome,
//     PhantomJS, Puppeteer, Playwright, Selenium), crawlers ("bot/", "crawler", "spider") and
//     security gateways that do name themselves (Barracuda, Proofpoint, Mimecast,
//     BingPreview). ReasonScannerAgent.
//   - An empty user agent: every browser and mail client sends one. ReasonNoAgent.
//   - On a click, the bare "Mozilla/5.0": Apple's proxy fetches images, never links, and no
//     browser sends it, so it is a program dressed as one. ReasonScannerAgent.
//
// The rules are tried in the order listed in Classify; the first that fires gives the reason.
package machine
