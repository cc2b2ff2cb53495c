package main

import (
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// Profiling is switched on from the environment, not by a flag, so that it
// stays out of the commands' usage: LEDGERLINE_CPUPROFILE=FILE writes a CPU
// profile of the whole command; LEDGERLINE_MEMPROFILE=FILE a heap profile
// taken near the command's largest heap (rewritten each time the heap grows
// by a quarter), which is what peak RSS is made of. make bench's
// end-to-end benchmark (pipeline/nightly_bench_test.go) reads both.
const (
	envCPUProfile = "LEDGERLINE_CPUPROFILE"
	envMemProfile = "LEDGERLINE_MEMPROFILE"
)

// startProfiles starts the profiles the environment asks for and returns
// the function that ends them.
func startProfiles(getenv func(string) (string, bool)) (stop func(), err error) {
	var cpu *os.File
	if name, ok := getenv(envCPUProfile); ok && name != "" {
		if cpu, err = os.Create(name); err != nil {
			return nil, fmt.Errorf("%s: %w", envCPUProfile, err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("%s: %w", envCPUProfile, err)
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	if name, ok := getenv(envMemProfile); ok && name != "" {
		go watchHeap(name, done, finished)
	} else {
		close(finished)
	}
	return func() {
		close(done)
		<-finished
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
	}, nil
}

// watchHeap writes a heap profile to name whenever the live heap has grown
// by a quarter since the last one, until done is closed.
func watchHeap(name string, done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var written uint64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if n := sample[0].Value.Uint64(); n > written+written/4 {
			written = n
			if err := writeHeap(name); err != nil {
				fmt.Fprintf(os.Stderr, "etl: %s: %v\n", envMemProfile, err)
				return
			}
		}
	}
}

func writeHeap(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
