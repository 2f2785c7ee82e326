package batch_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/civic-standards/coverage/clients/batch"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

func TestProfTmp(t *testing.T) {
	c := dial(t, "127.0.0.1:50999")
	dir := t.TempDir()
	var settlements []*coveragev1.Settlement
	for i := range 10000 {
		settlements = append(settlements, town(i))
	}
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, nil)
	out, _ := batch.OpenOutput(filepath.Join(dir, "o"), batch.OutputJSONL, batch.CreateNew)
	rej, _ := os.Create(filepath.Join(dir, "r"))
	start := time.Now()
	_, err := batch.Run(t.Context(), batch.Config{Client: c}, []batch.Input{{Path: path, Format: batch.FormatJSONL}}, nil, out, rej)
	fmt.Println(time.Since(start), err)
}
