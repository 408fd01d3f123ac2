// SPDX-License-Identifier: MIT
// A C++ workload: its hot code has mangled names (a namespace, a class, an
// overload, a class template, a function template, whose mangled name holds
// its return type) that cprof must demangle.
//	cxx SECONDS		the shapes
//	cxx SECONDS throw	exceptions thrown through a few frames and caught:
//				samples inside the unwinder's own frames
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace shapes {

template <typename T> struct Accumulator {
	__attribute__((noipa)) T spin(T x, int rounds)
	{
		for (int i = 0; i < rounds; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
		return x;
	}
};

class Circle {
public:
	__attribute__((noipa)) unsigned long area(unsigned long r) { return keep(acc.spin(r, 200000)); }
	__attribute__((noipa)) unsigned long area(int r) { return keep(acc.spin(r, 100000)); }

private:
	// Work after the call, so it is not a tail call and area keeps its frame.
	static unsigned long keep(unsigned long v)
	{
		__asm__ volatile("" : "+r"(v));
		return v + 1;
	}
	Accumulator<unsigned long> acc;
};

template <typename T> __attribute__((noipa)) T scale(T x)
{
	for (int i = 0; i < 50000; i++)
		x = x * 2862933555777941757UL + 3037000493UL;
	return x;
}

} // namespace shapes

// Thrown from depth frames down, through frames that must be unwound.
__attribute__((noipa)) static unsigned long dive(int depth)
{
	if (depth == 0)
		throw std::runtime_error("bottom");
	unsigned long v = dive(depth - 1);
	__asm__ volatile("" : "+r"(v));
	return v + 1;
}

volatile unsigned long sink;

int main(int argc, char **argv)
{
	using clock = std::chrono::steady_clock;
	double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
	auto end = clock::now() + std::chrono::duration<double>(seconds);
	shapes::Circle c;

	if (argc > 2 && std::strcmp(argv[2], "throw") == 0) {
		while (clock::now() < end) {
			try {
				sink = dive(6);
			} catch (const std::exception &e) {
				sink = sink + 1;
			}
		}
		return 0;
	}
	while (clock::now() < end) {
		sink = c.area(sink);
		sink = c.area(static_cast<int>(sink));
		sink = shapes::scale(sink);
	}
	return 0;
}
