// SPDX-License-Identifier: MIT
// A C++ workload: its hot code has mangled names (a namespace, a class, an
// overload, a template) that cprof must demangle. Usage: cxx SECONDS
#include <chrono>
#include <cstdlib>

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

} // namespace shapes

volatile unsigned long sink;

int main(int argc, char **argv)
{
	using clock = std::chrono::steady_clock;
	double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
	auto end = clock::now() + std::chrono::duration<double>(seconds);
	shapes::Circle c;

	while (clock::now() < end) {
		sink = c.area(sink);
		sink = c.area(static_cast<int>(sink));
	}
	return 0;
}
