// SPDX-License-Identifier: MIT
// An allocation-heavy C++ program for --kind alloc (tests, bench): two
// threads build maps of strings (many small allocations through operator
// new, all freed), while main keeps a few large blobs until the end.
//	maps [ROUNDS [FIFO]]	rounds of map building per thread (default 4);
//				with FIFO, the threads are started, then all
//				wait for a byte on it (a profiler attaches)
// Prints the bytes it kept, its own time from the start of its work to its
// end, and its peak resident size.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

static std::mutex lock;
static std::condition_variable started;
static bool go;

__attribute__((noinline)) static void build_map(int seed, int rounds)
{
	{
		std::unique_lock<std::mutex> l(lock);
		started.wait(l, [] { return go; });
	}
	for (int round = 0; round < rounds; round++) {
		std::map<int, std::string> m;
		for (int i = 0; i < 50000; i++)
			m[i * 7 + seed] = std::string(40, 'x');
	}
}

__attribute__((noinline)) static std::vector<char *> keep_blobs()
{
	std::vector<char *> blobs;
	for (int i = 0; i < 16; i++) {
		blobs.push_back(new char[1 << 20]);
		blobs.back()[0] = 1;
	}
	return blobs;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? std::atoi(argv[1]) : 4;
	std::thread a(build_map, 1, rounds), b(build_map, 2, rounds);
	if (argc > 2) {
		FILE *f = std::fopen(argv[2], "r");
		if (!f || std::fgetc(f) == EOF)
			return 2;
		std::fclose(f);
	}
	auto t0 = std::chrono::steady_clock::now();
	std::vector<char *> blobs = keep_blobs();
	{
		std::lock_guard<std::mutex> l(lock);
		go = true;
	}
	started.notify_all();
	a.join();
	b.join();
	std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	std::printf("kept %d\nelapsed_s %.4f\nmaxrss_kb %ld\n", 16 << 20, took.count(), ru.ru_maxrss);
	return blobs.size() == 16 ? 0 : 1;
}
