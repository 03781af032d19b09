package postgres

import "testing"

// TestNextPending: a migration numbered below one already applied still
// applies (migrations apply by set).
func TestNextPending(t *testing.T) {
	ms := []migration{{version: 1, name: "init"}, {version: 2, name: "files"}, {version: 3, name: "settings"}}
	for _, tc := range []struct {
		done []int
		want int // 0: none
	}{
		{nil, 1}, {[]int{1}, 2}, {[]int{1, 3}, 2}, {[]int{3, 1}, 2}, {[]int{1, 2}, 3}, {[]int{1, 2, 3}, 0}, {[]int{1, 2, 3, 9}, 0},
	} {
		got := nextPending(ms, tc.done)
		if (got == nil && tc.want != 0) || (got != nil && got.version != tc.want) {
			t.Errorf("nextPending(%v) = %v, want %d", tc.done, got, tc.want)
		}
	}
}
