#!/usr/bin/env bash
# End to end: `tvm tui programs/fibonacci.tvm` in a detached 120x40 tmux session on its own socket.
# Keys are sent as a user would type them and the pane is captured (as text) until it shows what
# the program must show: the current pc marked '>', breakpoints '*', the step number, acc values
# (fibonacci.tvm ends with acc 144 after 148 steps, its `; expect:` header). Polls with a
# deadline instead of sleeping; the tmux server is killed on every way out.
# Usage: tui_tmux_test.sh TVM_BINARY PROGRAMS_DIR. Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -uo pipefail
tvm=${1:?usage: tui_tmux_test.sh TVM_BINARY PROGRAMS_DIR}
programs=${2:?usage: tui_tmux_test.sh TVM_BINARY PROGRAMS_DIR}
if ! command -v tmux >/dev/null; then
  echo "SKIP: tmux is not installed (apt-get install tmux)"
  exit 77
fi

fail() {
  echo "FAIL: $*"
  exit 1
}

# Help as for every command: usage line, examples, exit codes; no program is a usage error.
help=$("$tvm" help tui 2>&1) || fail "tvm help tui failed: $help"
for text in "Usage: tvm tui " "Example" "Exit codes: 0" "--max-steps N" "--layers N"; do
  [[ $help == *"$text"* ]] || fail "tvm help tui lacks '$text'"
done
"$tvm" tui </dev/null >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "tvm tui without a program: exit $rc, expected 2"

# No terminal: a clear error and exit 2, before anything is drawn.
err=$("$tvm" tui "$programs/fibonacci.tvm" </dev/null 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] || fail "without a terminal: exit $rc, expected 2 ($err)"
[[ $err == *"tvm tui needs a terminal"* ]] || fail "without a terminal: '$err'"
# A bad program: the assembler's error, exit 1.
err=$("$tvm" tui "$programs/no-such-program.tvm" </dev/null 2>&1 >/dev/null)
rc=$?
[ "$rc" = 1 ] || fail "missing program: exit $rc, expected 1 ($err)"
[[ $err == *"cannot open"* ]] || fail "missing program: '$err'"

socket=ptvm_tui_test_$$
tm() { tmux -L "$socket" -f /dev/null "$@"; }
socket_path=""
# tmux leaves its socket file behind after kill-server: remove it too.
cleanup() {
  tm kill-server >/dev/null 2>&1
  [ -n "$socket_path" ] && rm -f "$socket_path"
}
trap cleanup EXIT
session=tui
# The shell after tvm prints its exit code and keeps the pane for the last capture.
printf -v command '%q tui %q; echo tvm-exit=$?; sleep 30' "$tvm" "$programs/fibonacci.tvm"
tm new-session -d -x 120 -y 40 -s "$session" "$command" || fail "tmux new-session failed"
socket_path=$(tm display-message -p '#{socket_path}')

screen=""
# wait_for TEXT...: until the pane shows every TEXT (10 s at most).
wait_for() {
  local deadline=$(($(date +%s%N) / 1000000 + 10000)) text missing
  while :; do
    screen=$(tm capture-pane -p -t "$session" 2>/dev/null)
    missing=""
    for text in "$@"; do
      if [[ $screen != *"$text"* ]]; then
        missing=$text
        break
      fi
    done
    [ -z "$missing" ] && return 0
    if [ $(($(date +%s%N) / 1000000)) -gt "$deadline" ]; then
      echo "--- the pane:"
      echo "$screen"
      fail "the pane never showed '$missing'"
    fi
    sleep 0.05
  done
}
keys() { tm send-keys -t "$session" -l "$1"; }

wait_for "step 0/148" " >   0  LOAD 2" "engine transformer" "q quit" "mem[2] =     12  writes: 0:12"
keys nnn
wait_for "step 3/148" " >   3  STORE 2" "acc 11" "x[0..4]   one=1 pc=2 p1=3 acc=12"
keys 5b
wait_for "breakpoint set at pc 5" "*    5  ADDM 1"
keys c
wait_for "step 5/148" "*>   5  ADDM 1" "breakpoint at pc 5 (step 5)" "read mem[0] -> 0"
keys c
wait_for "step 17/148" "*>   5  ADDM 1" "breakpoint at pc 5 (step 17)"
keys 5b12b
wait_for "breakpoint set at pc 12" " >   5  ADDM 1" "*   12  LOAD 0"
keys c
wait_for "step 146/148" "*>  12  LOAD 0" "acc 0 " "breakpoint at pc 12 (step 146)"
keys e
wait_for "engine native" "step 146/148" "recomputed with the native engine (148 steps); at step 146" "*>  12  LOAD 0"
keys n
wait_for "step 147/148" "acc 144" "read mem[0] -> 144" " >  13  HALT"
keys n
wait_for "step 148/148  [halted]" "halted 1" "mem[0] =    144"
keys p
wait_for "step 147/148" "halted 0"
keys e
wait_for "engine transformer" "step 147/148" "acc 144"
keys p
wait_for "step 146/148" "acc 0 "
keys q
wait_for "tvm-exit=0"
echo "PASS: tvm tui in tmux (steps, breakpoints, run to breakpoint, engine switch, step back, quit)"
