package samples

import (
	"bufio"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Settlements reads a set's settlements.jsonl, whose lines carry each
// settlement's central area and bus stops inline, in file order.
func Settlements(set string) ([]*coveragev1.Settlement, error) {
	f, err := Open(set, "settlements.jsonl")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	// A city's line carries every one of its stops.
	sc.Buffer(nil, 64<<20)
	var out []*coveragev1.Settlement
	for line := 1; sc.Scan(); line++ {
		s := &coveragev1.Settlement{}
		if err := protojson.Unmarshal(sc.Bytes(), s); err != nil {
			return nil, fmt.Errorf("%s/settlements.jsonl:%d: %w", set, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s/settlements.jsonl: %w", set, err)
	}
	return out, nil
}
