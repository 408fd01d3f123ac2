// A cgo program: most of its time in C, called through runtime.asmcgocall
// on the system stack, the rest in Go.
//
// Usage: cgo SECONDS
package main

/*
static unsigned long spin(unsigned long n)
{
	unsigned long s = 0;

	for (unsigned long i = 0; i < n; i++)
		s = s * 6364136223846793005UL + i;
	return s;
}
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Go's share of the work: a xorshift generator.
//
//go:noinline
func gowork(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func main() {
	seconds, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil {
		panic(err)
	}
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var s uint64
	for time.Now().Before(end) {
		s += uint64(C.spin(20000000))
		s += gowork(5000000)
	}
	fmt.Println(s)
}
