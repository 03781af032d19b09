package parley

// UserNameIDs returns the distinct valid ids of ids, in order, for a
// UserNames lookup: malformed ids cannot name a user and are dropped.
// EINVALID when more than MaxUserNames remain.
func UserNameIDs(ids []string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !ValidID(id) || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	if len(out) > MaxUserNames {
		return nil, Errorf(EINVALID, "at most %d user ids at once", MaxUserNames)
	}
	return out, nil
}
