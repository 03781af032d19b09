package parley

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixRange(t *testing.T) {
	words := []string{"ab", "abc", "abé", "abz", "ac", "a", "aé", "aéa", "aê", "é", "\U0010FFFF", "\U0010FFFFx", "\uD7FFa", "\uE000"}
	for _, prefix := range []string{"ab", "a", "aé", "\U0010FFFF", "\uD7FF", "é"} {
		lo, hi := PrefixRange(prefix)
		if !utf8.ValidString(hi) {
			t.Errorf("PrefixRange(%q): hi %q is not UTF-8", prefix, hi)
		}
		for _, w := range words {
			in := w >= lo && (hi == "" || w < hi)
			if in != strings.HasPrefix(w, prefix) {
				t.Errorf("PrefixRange(%q) = [%q, %q): %q in range %v", prefix, lo, hi, w, in)
			}
		}
	}
}

func TestTokenize(t *testing.T) {
	got := IndexTokens("Hello, WORLD! e-mail café 我想退款 Здравствуйте ÉCOLE x\u0301y")
	want := "hello world e mail café 我 想 退 款 здравствуйте école x\u0301y"
	if strings.Join(got, " ") != want {
		t.Errorf("IndexTokens = %q, want %q", strings.Join(got, " "), want)
	}
	long := strings.Repeat("é", 80)
	if toks := Tokenize(long); len(toks) != 1 || len(toks[0].Text) > MaxTokenBytes || !utf8.ValidString(toks[0].Text) {
		t.Errorf("a long word: %v", toks)
	}
}

func TestSearchPlanMatch(t *testing.T) {
	syntax := MatchSyntax{Quote: func(w string) string { return "<" + w + ">" }, Or: "|", And: "&", PrefixSuffix: "*"}
	for _, tc := range []struct {
		terms []SearchTerm
		want  string
	}{
		{[]SearchTerm{{Text: "refund"}}, "<refund>"},
		{[]SearchTerm{{Text: "deliv", Prefix: true}}, "<deliv>*"},
		{[]SearchTerm{{Text: "deliv", Prefix: true, Words: []string{"delivery"}}}, "<delivery>"},
		{[]SearchTerm{{Text: "deliv", Prefix: true, Words: []string{"deliver", "delivery"}}}, "(<deliver>|<delivery>)"},
		{[]SearchTerm{{Text: "order"}, {Text: "35", Prefix: true}}, "<order>&<35>*"},
	} {
		p := &SearchPlan{Terms: tc.terms}
		if got := p.Match(syntax); got != tc.want {
			t.Errorf("Match(%+v) = %q, want %q", tc.terms, got, tc.want)
		}
	}
}
