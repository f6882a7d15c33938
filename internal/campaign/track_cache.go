package campaign

import (
	"context"
	"sync"
	"time"

	"posthorn/internal/campaign/machine"
	"posthorn/internal/campaign/render"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// cachedCampaign is a campaign as the tracking endpoints need it.
type cachedCampaign struct {
	store.Campaign
	links   map[int]string // by link index; the honeypot (0) is not in it
	read    time.Time
	mu      sync.Mutex
	view    *render.Campaign // compiled on the first view, nil before
	lists   []string         // the names of the campaign's lists, read with view
	viewErr error
}

// campaignCache keeps campaigns for campaignTTL, at most maxCachedCampaigns (when full, it
// starts again empty: a bound, not an eviction policy worth more code).
type campaignCache struct {
	mu sync.Mutex
	m  map[int64]*cachedCampaign
}

func (cc *campaignCache) get(ctx context.Context, st store.CampaignStore, id int64, now time.Time) (*cachedCampaign, error) {
	cc.mu.Lock()
	c, ok := cc.m[id]
	cc.mu.Unlock()
	if ok && now.Sub(c.read) < campaignTTL {
		return c, nil
	}
	return cc.load(ctx, st, id, now)
}

// load reads a campaign and its links anew.
func (cc *campaignCache) load(ctx context.Context, st store.CampaignStore, id int64, now time.Time) (*cachedCampaign, error) {
	camp, err := st.GetCampaign(ctx, id)
	if err != nil {
		return nil, unknown("campaign", err)
	}
	links, err := st.CampaignLinks(ctx, id)
	if err != nil {
		return nil, unknown("campaign links", err)
	}
	c := &cachedCampaign{Campaign: camp, links: make(map[int]string, len(links)), read: now}
	for _, l := range links {
		if l.Index != render.HoneypotLink && l.URL != "" {
			c.links[l.Index] = l.URL
		}
	}
	cc.mu.Lock()
	if cc.m == nil || len(cc.m) >= maxCachedCampaigns {
		cc.m = make(map[int64]*cachedCampaign)
	}
	cc.m[id] = c
	cc.mu.Unlock()
	return c, nil
}

// clickWindow remembers each recipient's clicks of the last machine.BurstWindow, for the
// burst rule, for at most maxClickKeys recipients at a time.
type clickWindow struct {
	mu sync.Mutex
	m  map[token.Recipient][]machine.OtherClick
}

// add records a click and returns the recipient's other clicks still in the window.
func (w *clickWindow) add(key token.Recipient, link int64, at time.Time) []machine.OtherClick {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[token.Recipient][]machine.OtherClick)
	}
	others := fresh(w.m[key], at)
	if _, ok := w.m[key]; !ok && len(w.m) >= maxClickKeys {
		for k, v := range w.m {
			if len(fresh(v, at)) == 0 {
				delete(w.m, k)
			}
		}
		if len(w.m) >= maxClickKeys {
			clear(w.m)
		}
	}
	const perRecipient = 32
	kept := append(others[max(0, len(others)-perRecipient+1):len(others):len(others)], machine.OtherClick{Link: link, At: at})
	w.m[key] = kept
	return others
}

// fresh returns the clicks of cs within machine.BurstWindow of at, in a new slice.
func fresh(cs []machine.OtherClick, at time.Time) []machine.OtherClick {
	var out []machine.OtherClick
	for _, c := range cs {
		if d := at.Sub(c.At); d <= machine.BurstWindow && d >= -machine.BurstWindow {
			out = append(out, c)
		}
	}
	return out
}
