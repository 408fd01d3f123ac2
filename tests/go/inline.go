// A Go program whose hot function the compiler inlines (go build
// -gcflags=-m says "inlining call to mix"), profiling itself with
// runtime/pprof while cprof profiles it from outside: the two profiles of
// one run are compared. Two goroutines work, on two threads: the kernel
// delivers a thread's CPU-time profiling signals at most once a tick
// (250 Hz), so two threads give runtime/pprof twice the samples.
//
// Usage: inline SECONDS [CPU.pprof]
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

//go:noinline
func loop(n int) uint64 {
	var s uint64
	for i := 0; i < n; i++ {
		s += mix(uint64(i))
	}
	return s
}

//go:noinline
func other(n int) uint64 {
	var s uint64 = 1
	for i := 0; i < n; i++ {
		s = s*31 + uint64(i)
	}
	return s
}

func main() {
	seconds, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil {
		panic(err)
	}
	if len(os.Args) > 2 {
		f, err := os.Create(os.Args[2])
		if err != nil {
			panic(err)
		}
		// 1000 Hz, not runtime/pprof's 100: enough samples for shares
		// to a point. StartCPUProfile keeps the rate set first (and
		// says so on stderr).
		runtime.SetCPUProfileRate(1000)
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
		defer pprof.StopCPUProfile()
	}
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	sums := make([]uint64, 2)
	var wg sync.WaitGroup
	for w := range sums {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(end) {
				sums[w] += loop(1000000)
				sums[w] += other(500000)
			}
		}(w)
	}
	wg.Wait()
	fmt.Println(sums[0] + sums[1])
}
