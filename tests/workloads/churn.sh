#!/bin/sh
# Processes that come and go, as on a busy server or a build machine.
#	churn.sh SECONDS		a shell loop: /bin/true, and sh -c arithmetic loops
#	churn.sh SECONDS build DIR	the same, beside make -j2 rebuilding 40 small C
#					files in DIR (made here) over and over
# Runs about SECONDS, then waits for what it started and exits 0.
set -u
seconds=${1:?usage: churn.sh SECONDS [build DIR]}
end=$(($(date +%s) + seconds))

if [ "${2:-}" = build ]; then
	dir=${3:?churn.sh: build needs a directory}
	mkdir -p "$dir"
	i=0
	while [ $i -lt 40 ]; do
		printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' \
			"$i" "$i" >"$dir/f$i.c"
		i=$((i + 1))
	done
	printf 'objs := $(patsubst %%.c,%%.o,$(wildcard *.c))\nall: $(objs)\n%%.o: %%.c\n\t$(CC) -O2 -c $< -o $@\n' \
		>"$dir/Makefile"
	(
		while [ "$(date +%s)" -lt "$end" ]; do
			rm -f "$dir"/*.o
			make -s -C "$dir" -j2 >/dev/null 2>&1
		done
	) &
fi

while [ "$(date +%s)" -lt "$end" ]; do
	/bin/true
	sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i + 1)); done'
done
wait
