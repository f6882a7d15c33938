package feedback

import "testing"

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]Status{
		"5.1.1": {5, 1, 1}, " 4.2.2 (mailbox full)": {4, 2, 2}, "5.1.10": {5, 1, 10},
		"2.0.0": {2, 0, 0}, "5.7.999": {5, 7, 999}, "5.0.0\t(permanent failure)": {5, 0, 0},
	} {
		if got, ok := ParseStatus(in); !ok || got != want {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "5.1", "5.1.1.1", "3.1.1", "55.1.1", "5.1000.1", "5.-1.1", "5.+1.1", "a.b.c", "5..1", "550"} {
		if got, ok := ParseStatus(bad); ok {
			t.Errorf("ParseStatus(%q) = %v, want not ok", bad, got)
		}
	}
	if s := (Status{5, 1, 10}).String(); s != "5.1.10" {
		t.Errorf("String: %q", s)
	}
}

func TestClassifyStatus(t *testing.T) {
	for code, want := range map[string]Bounce{
		"2.0.0": NoBounce, "2.1.5": NoBounce,
		"4.0.0": SoftBounce, "4.2.2": SoftBounce, "4.7.1": SoftBounce, "4.1.1": SoftBounce,
		"5.0.0": HardBounce, "5.1.1": HardBounce, "5.1.2": HardBounce, "5.1.3": HardBounce,
		"5.1.6": HardBounce, "5.1.10": HardBounce, "5.1.7": SoftBounce, "5.1.8": SoftBounce,
		"5.2.1": HardBounce, "5.2.0": SoftBounce, "5.2.2": SoftBounce, "5.2.3": SoftBounce,
		"5.3.0": SoftBounce, "5.3.4": SoftBounce,
		"5.4.1": HardBounce, "5.4.4": HardBounce, "5.4.6": SoftBounce, "5.4.7": SoftBounce,
		"5.5.0": SoftBounce, "5.5.2": SoftBounce, "5.6.0": SoftBounce,
		"5.7.1": SoftBounce, "5.7.26": SoftBounce, "5.7.0": SoftBounce, "5.7.13": HardBounce,
		"5.9.9": HardBounce,
	} {
		s, ok := ParseStatus(code)
		if !ok {
			t.Fatalf("ParseStatus(%q) failed", code)
		}
		if got := ClassifyStatus(s); got != want {
			t.Errorf("ClassifyStatus(%s) = %v, want %v", code, got, want)
		}
	}
}

func TestClassifyReply(t *testing.T) {
	for _, tc := range []struct {
		code     int
		enhanced string
		want     Bounce
	}{
		{250, "2.0.0", NoBounce}, {354, "", NoBounce},
		{421, "4.7.0", SoftBounce}, {450, "", SoftBounce}, {452, "4.2.2", SoftBounce},
		{550, "5.1.1", HardBounce}, {550, "", HardBounce}, {551, "", HardBounce},
		{553, "", HardBounce}, {554, "", HardBounce}, {552, "", SoftBounce},
		{552, "5.2.2", SoftBounce}, {550, "5.7.1", SoftBounce}, {554, "5.7.1", SoftBounce},
		{550, "5.2.2", SoftBounce}, {550, "5.4.1", HardBounce},
		{500, "", SoftBounce}, {501, "", SoftBounce}, {503, "5.5.1", SoftBounce},
		// A class that disagrees with the reply code: the reply code decides.
		{550, "4.2.2", HardBounce}, {451, "5.1.1", SoftBounce},
		// Rubbish enhanced codes are ignored.
		{550, "x.y.z", HardBounce}, {452, "5.1", SoftBounce},
		{0, "", NoBounce}, {600, "5.1.1", NoBounce}, {199, "", NoBounce},
	} {
		if got := ClassifyReply(tc.code, tc.enhanced); got != tc.want {
			t.Errorf("ClassifyReply(%d, %q) = %v, want %v", tc.code, tc.enhanced, got, tc.want)
		}
	}
	if HardBounce.String() != "hard" || SoftBounce.String() != "soft" || NoBounce.String() != "none" {
		t.Error("Bounce.String")
	}
}
