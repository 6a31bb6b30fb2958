// The original Gas Town daemon (steveyegge/gastown at e5c88ae9d4, internal/daemon unchanged) as a
// program of its own, for the benchmark: the same daemon.New(cfg).Run() that `gt daemon run` calls,
// with the heartbeat interval as a flag (the original hard-codes 5m in DefaultConfig, which is the only
// value changed here). Built by bench/original.ts; never part of gtd.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/steveyegge/gastown/internal/daemon"
)

func main() {
	town := flag.String("town", "", "town root")
	hb := flag.Duration("heartbeat", 5*time.Minute, "heartbeat interval")
	flag.Parse()
	cfg := daemon.DefaultConfig(*town)
	cfg.HeartbeatInterval = *hb
	d, err := daemon.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := d.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
