package store

import "testing"

func TestHubDeliversWithoutBlocking(t *testing.T) {
	h := NewHub()
	ch, cancel := h.Subscribe(1)
	other, cancelOther := h.Subscribe(2)
	defer cancelOther()
	for i := 0; i < 5; i++ {
		h.Publish(Change{AccountID: 1, MailboxID: 7, Kind: ChangeNew, ModSeq: uint64(i)})
	}
	if c := <-ch; c.MailboxID != 7 {
		t.Fatalf("got %+v", c)
	}
	select {
	case c := <-other:
		t.Fatalf("account 2 got account 1's change %+v", c)
	default:
	}
	cancel()
	cancel()
	h.Publish(Change{AccountID: 1})
	select {
	case c := <-ch:
		t.Fatalf("event after unsubscribe: %+v", c)
	default:
	}
}
