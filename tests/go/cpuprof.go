// A Go program that writes real Go profiles for cprof report to read:
// a CPU profile of a known 70/30 split between hotA and hotB, and a heap
// profile with memory retained by two allocation sites.
//
// Usage: go run cpuprof.go CPU.pprof HEAP.pprof
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func spin(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
}

//go:noinline
func hotA() { spin(200000) }

//go:noinline
func hotB() { spin(200000) }

//go:noinline
func work() {
	for i := 0; i < 7; i++ {
		hotA()
	}
	for i := 0; i < 3; i++ {
		hotB()
	}
}

var retained [][]byte

//go:noinline
func allocBig() {
	for i := 0; i < 64; i++ {
		retained = append(retained, make([]byte, 256<<10))
	}
}

//go:noinline
func allocSmall() {
	for i := 0; i < 64; i++ {
		retained = append(retained, make([]byte, 64<<10))
	}
}

func main() {
	if len(os.Args) != 3 {
		os.Stderr.WriteString("usage: cpuprof CPU.pprof HEAP.pprof\n")
		os.Exit(2)
	}
	cpu, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		work()
	}
	pprof.StopCPUProfile()
	cpu.Close()

	runtime.MemProfileRate = 4096
	allocBig()
	allocSmall()
	runtime.GC()
	heap, err := os.Create(os.Args[2])
	if err != nil {
		panic(err)
	}
	if err := pprof.WriteHeapProfile(heap); err != nil {
		panic(err)
	}
	heap.Close()
}
