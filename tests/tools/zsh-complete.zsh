# zsh zsh-complete.zsh COMPDIR WORDS...: what zsh's completion offers for the
# command line WORDS (its last word the one being completed), one candidate a
# line. An interactive zsh runs in a pseudo-terminal (zsh/zpty) with COMPDIR
# first in $fpath; a widget calls the completion system with compadd wrapped
# to print what each call adds, and a marker when it is done. The markers are
# spelt apart in the commands typed: the terminal echoes those, and a marker
# read in the echo (a clean clone's run did) ended a read before zsh ran them.
zmodload zsh/zpty || exit 1
compdir=$1
shift
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($compdir \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'comptest() { compadd() { local -a hits; builtin compadd -O hits "$@"; (( $#hits )) && print -l -- "HIT "$^hits; builtin compadd "$@"; }; _main_complete; unfunction compadd; print -- "@@DO""NE@@"; }'
zpty -w z 'zle -C comptest complete-word comptest; bindkey "^T" comptest; echo RE""ADY'
zpty -r z line '*READY*'
zpty -n -w z "$*"$'\C-t'
zpty -r z out '*@@DONE@@*'
zpty -d z
print -r -- "$out" | tr -d '\r' | grep -ao 'HIT .*' | sed 's/^HIT //' | sort -u
