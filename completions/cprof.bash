# bash completion for cprof. Installed by meson install into
# $datadir/bash-completion/completions/cprof; or: source completions/cprof.bash
#
# Subcommands and their options; -p with the running pids; --kind with the
# kinds; -e with perf's events and the tracepoints this kernel offers;
# files for -o and for report's input.

_cprof_events() {
	local tracing=/sys/kernel/tracing
	[ -r "$tracing/available_events" ] || tracing=/sys/kernel/debug/tracing
	printf '%s\n' cpu-clock task-clock cycles instructions cache-misses branch-misses \
		page-faults context-switches cpu-migrations
	[ -r "$tracing/available_events" ] && cat "$tracing/available_events"
	printf '%s\n' kprobe: uprobe:
}

_cprof() {
	local cur prev cmd opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	cmd=
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		mapfile -t COMPREPLY < <(compgen -W "doctor record report serve snapshot top -v --verbose -q --quiet -h --help --version" -- "$cur")
		return
	fi
	case $prev in
	-p | --pid | -t | --tid)
		mapfile -t COMPREPLY < <(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur")
		return ;;
	--kind)
		# A list: complete its last item, keeping the ones before.
		local done=${cur%"${cur##*,}"}
		mapfile -t COMPREPLY < <(compgen -P "$done" -W "cpu offcpu wall mutex threadcreate alloc" -- "${cur##*,}")
		return ;;
	-e | --event)
		mapfile -t COMPREPLY < <(compgen -W "$(_cprof_events)" -- "$cur")
		return ;;
	--call-graph)
		mapfile -t COMPREPLY < <(compgen -W "dwarf fp none" -- "$cur")
		return ;;
	--format)
		if [ "$cmd" = snapshot ]; then
			mapfile -t COMPREPLY < <(compgen -W "pprof text threads perf-script folded" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "pprof perf-script folded" -- "$cur")
		fi
		return ;;
	-o | --output | --vmlinux | --diff-base | --token-file | --flamegraph | --callgrind | --dot)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--debuginfo-path | --source-path)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return ;;
	esac
	case $cmd in
	record) opts="-p --pid -t --tid -a --all-cpus -C --cpu -F --freq -c --count -e --event --kind
		--alloc-rate --call-graph -g -d --duration -o --output --every --keep --max-size --format
		--debuginfo-path --vmlinux --verify-unwind -h --help" ;;
	report) opts="--top --tree --traces --folded --perf-script --flamegraph --callgrind --dot
		--threads-summary --threads --list --disasm --weblist --source-path --trim-path -n --nodecount -i --sample-index --nodefraction --pid --tid
		--comm --focus --ignore --hide --lines --diff-base --icicle --title --max-memory -h --help" ;;
	serve) opts="--listen --prefix --max-seconds --token-file -F --freq --call-graph -h --help" ;;
	snapshot) opts="-p --pid -a --all -o --output --format --repeat --interval --stack-size -h --help" ;;
	top) opts="-a --all-cpus -p --pid -t --tid -C --cpu -F --freq -c --count -e --event --kind
		--alloc-rate --call-graph -g -d --delay -o --output -h --help" ;;
	doctor) opts="-h --help" ;;
	esac
	if [[ $cur == -* ]] || [ "$cmd" != report ]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}
complete -F _cprof cprof
