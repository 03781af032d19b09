package storetest

import (
	"context"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// envSearchMessages sizes the search benchmark's data set.
const envSearchMessages = "PARLEY_BENCH_SEARCH_MESSAGES"

// searchVocabulary is what benchmark messages are made of: support words
// first (the most frequent under the Zipf draw), then made-up words from
// syllables, so term frequencies fall off as in real text.
var searchVocabulary = sync.OnceValue(func() []string {
	ws := strings.Fields(`the to i my a and is for you it of order please can in refund on not this delivery
		have with be was me at we account thanks help payment but hello your parcel package invoice card
		tracking number shipping address password email still when what days week received item return
		support price discount subscription cancel update problem error app login code charge wrong late
		damaged replace exchange status confirm today yesterday morning store online phone message reply`)
	syl := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "xe", "zu", "bra", "cle", "dro", "fin", "gar", "hul", "jon", "kel", "mar", "nor"}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for _, w := range ws {
		seen[w] = true
	}
	for len(ws) < 4000 {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			ws = append(ws, w)
		}
	}
	return ws
})

var (
	firstNames = strings.Fields("Anna Ben Chloe David Emma Felix Grace Hugo Ines Jonas Karin Liam Mia Noah Olga Pablo Quinn Rosa Sven Tara Uma Viktor Wanda Xavier Yara Zoe")
	lastNames  = strings.Fields("Andersen Bakker Costa Dubois Eriksen Fischer Garcia Horvat Ivanova Jensen Kowalski Larsen Moreau Novak Olsen Petrov Quist Rossi Silva Tanaka Ueda Varga Weber Xu Yilmaz Zimmer")
)

// searchData is the data set the search benchmarks read.
type searchData struct {
	agent   string
	orders  []int    // order numbers that occur
	rare    []string // words that occur about a hundred times in a million messages
	seeding string
	logged  sync.Once
}

func seedSearch(b *testing.B, s parley.Store) *searchData {
	ctx := b.Context()
	nMsg := max(100, envInt(b, envSearchMessages, 100000))
	nConv := max(1, nMsg/20)
	writers := envInt(b, envWriters, 32)
	vocab := searchVocabulary()
	d := &searchData{}
	var agents []*parley.User
	for range 5 {
		u := newUser(parley.RoleAgent)
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatalf("seeding agents: %v", err)
		}
		agents = append(agents, u)
	}
	d.agent = agents[0].ID
	// Zipf over the vocabulary: the first words make most of the text.
	rank := len(vocab) - 300
	d.rare = []string{vocab[rank+7], vocab[rank+19], vocab[rank+33]}
	start := time.Now()
	var written atomic.Int64
	var mu sync.Mutex
	err := parallel(ctx, nConv, writers, func(ctx context.Context, i int) error {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		zipf := rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))
		status, assignee := parley.StatusWaiting, ""
		switch k := i % 10; {
		case k >= 8:
			status, assignee = parley.StatusClosed, agents[i%len(agents)].ID
		case k >= 3:
			status, assignee = parley.StatusActive, agents[i%len(agents)].ID
		}
		cu := newCustomer()
		cu.Name = firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
		if err := s.CreateCustomer(ctx, cu); err != nil {
			return err
		}
		c := &parley.Conversation{Status: status, CustomerID: cu.ID, AssigneeID: assignee}
		if err := s.CreateConversation(ctx, c); err != nil {
			return err
		}
		count := nMsg / nConv
		if i < nMsg%nConv {
			count++
		}
		agent := assignee
		if agent == "" {
			agent = agents[0].ID
		}
		for j := range count {
			words := make([]string, 5+r.IntN(16))
			for k := range words {
				words[k] = vocab[zipf.Uint64()]
			}
			if j == 0 {
				n := 10000 + i
				words = append(words, "order", "#"+strconv.Itoa(n))
				if i%97 == 0 {
					mu.Lock()
					d.orders = append(d.orders, n)
					mu.Unlock()
				}
			}
			m := textMessage(c.ID, parley.SenderCustomer, cu.ID, strings.Join(words, " ")+".")
			if j%2 == 1 {
				m = textMessage(c.ID, parley.SenderAgent, agent, strings.Join(words, " ")+".")
			}
			m.ClientMsgID = strconv.Itoa(j)
			if _, err := s.AppendMessage(ctx, m); err != nil {
				return err
			}
			written.Add(1)
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seeding: %v", err)
	}
	d.seeding = seeded(b, s, start, nConv, written.Load(), writers)
	return d
}

// RunSearchBenchmarks measures Search over a generated data set of
// PARLEY_BENCH_SEARCH_MESSAGES messages (default 100,000) in conversations
// of 20, reporting the median and 99th percentile of each query shape.
// explain, when not nil, returns the store's plan of a query's message
// lookup, logged once per shape.
//
//	PARLEY_BENCH_SEARCH_MESSAGES=1000000 go test -run '^$' -bench Search -benchtime 200x -timeout 60m ./internal/sqlite/
func RunSearchBenchmarks(b *testing.B, s parley.Store, explain func(parley.SearchQuery) (string, error)) {
	d := seedStore(s, func() *searchData { return seedSearch(b, s) })
	order := 10000
	if len(d.orders) > 0 {
		order = d.orders[len(d.orders)/2]
	}
	shapes := []struct {
		name string
		q    parley.SearchQuery
	}{
		{"order-number", parley.SearchQuery{Text: "order #" + strconv.Itoa(order)}},
		{"rare-word", parley.SearchQuery{Text: d.rare[0]}},
		{"rare-two-words", parley.SearchQuery{Text: d.rare[1] + " " + d.rare[2]}},
		{"common-word", parley.SearchQuery{Text: "refund"}},
		{"common-prefix", parley.SearchQuery{Text: "deliv"}},
		{"common-two-words", parley.SearchQuery{Text: "refund delivery"}},
		{"phrase", parley.SearchQuery{Text: `"tracking number"`}},
		{"customer-name", parley.SearchQuery{Text: "kowalski"}},
		{"agent-view-common", parley.SearchQuery{Text: "refund", WaitingOrAssignedTo: d.agent}},
		{"closed-common", parley.SearchQuery{Text: "refund", Statuses: []parley.Status{parley.StatusClosed}}},
		{"no-match", parley.SearchQuery{Text: "zzqqxx"}},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			d.logged.Do(func() { b.Log(d.seeding) })
			if explain != nil {
				plan, err := explain(sh.q)
				if err != nil {
					b.Fatalf("explain: %v", err)
				}
				b.Logf("plan of %q:\n%s", sh.q.Text, plan)
			}
			ctx := b.Context()
			var times []time.Duration
			var page *parley.SearchPage
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				var err error
				page, err = s.Search(ctx, sh.q)
				if err != nil {
					b.Fatalf("Search(%q): %v", sh.q.Text, err)
				}
				times = append(times, time.Since(t0))
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			pct := func(p float64) float64 {
				i := min(len(times)-1, int(float64(len(times))*p))
				return float64(times[i].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(page.Hits)), "hits")
			if page.Truncated {
				b.ReportMetric(1, "truncated")
			} else {
				b.ReportMetric(0, "truncated")
			}
		})
	}
}
