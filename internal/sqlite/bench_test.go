package sqlite

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley"
)

// BenchmarkAppend measures parallel appends over many conversations, and
// reports the mean group-commit batch next to the rate:
//
//	go test -run '^$' -bench Append -benchtime 5s ./internal/sqlite/
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run("synchronous="+sync, func(b *testing.B) {
			s, err := Open(b.Context(), b.TempDir()+"/bench.db", Options{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(b.Context()); err != nil {
				b.Fatal(err)
			}
			convs := make([]*parley.Conversation, 1000)
			for i := range convs {
				convs[i] = mustConversation(b, s, parley.StatusWaiting, "")
			}
			var next atomic.Int64
			b.Run("writers=32", func(b *testing.B) {
				b.SetParallelism(16)
				startBatches, startBatched := s.batches.Load(), s.batched.Load()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1)
						c := convs[int(i)%len(convs)]
						m := customerSays(c, "benchmark message")
						m.ClientMsgID = "b" + strconv.FormatInt(i, 10)
						if _, err := s.AppendMessage(b.Context(), m); err != nil {
							b.Errorf("AppendMessage: %v", err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				if n := s.batches.Load() - startBatches; n > 0 {
					b.ReportMetric(float64(s.batched.Load()-startBatched)/float64(n), "msgs/commit")
				}
			})
		})
	}
}
