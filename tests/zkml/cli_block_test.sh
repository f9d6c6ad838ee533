#!/usr/bin/env bash
# tvm prove-block / verify / verify-block end to end at a tiny shape: a block proof and a decode chain
# accepted (also at a shape that is not a power of two; the host-sim GPU path with the CPU's bytes), a flipped byte, a truncated file, another model and bad shapes rejected with the right
# exit codes (0 accepted, 2 usage, 3 rejected).
set -u
TVM=$1
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
SHAPE=d_model=16,q_heads=2,kv_heads=1,head_dim=8,ffn=32,seq_len=4
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect RC command...
  local want=$1; shift
  "$@" >"$DIR/out" 2>&1; local rc=$?
  [ "$rc" = "$want" ] || { cat "$DIR/out"; fail "exit $rc (want $want): $*"; }
}
expect 0 "$TVM" prove-block --shape "$SHAPE" --seed 3 -o "$DIR/b.proof" --json
grep -q '"quantization_error"' "$DIR/out" || fail "no quantization error reported"
ROOT=$(python3 -c 'import json,sys; print(next(json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))["model_root"])' "$DIR/out") || fail "no model_root"
expect 0 "$TVM" verify-block "$DIR/b.proof" --model-root "$ROOT"
expect 3 "$TVM" verify-block "$DIR/b.proof" --model-root "$(echo "$ROOT" | tr 0-9a-f 1-9a-f0)"
expect 2 "$TVM" verify-block "$DIR/b.proof" --model-root xyz
expect 0 "$TVM" verify "$DIR/b.proof"
grep -q "verdict: accepted" "$DIR/out" || fail "verify did not accept"
expect 0 "$TVM" verify-block "$DIR/b.proof" --seed 3
expect 3 "$TVM" verify-block "$DIR/b.proof" --seed 4
expect 2 "$TVM" verify-block "$DIR/b.proof"
expect 0 "$TVM" prove-block --shape "$SHAPE" --decode-steps 2 -o "$DIR/d.proof"
expect 0 "$TVM" verify "$DIR/d.proof" --json
grep -q '"decode-chain"' "$DIR/out" || fail "not recognised as a decode chain"
# The GPU path under host-sim (the GPU sumcheck kernels on the CPU, the forward pass's int8 limb
# GEMMs on host-sim's engine) gives the CPU's bytes, for a proof and a decode chain.
expect 0 "$TVM" prove-block --shape "$SHAPE" --seed 3 --backend cpu -o "$DIR/c.proof" --json
grep -q '"forward_gemm":"cpu (direct' "$DIR/out" || fail "cpu backend does not report the direct products"
cmp "$DIR/b.proof" "$DIR/c.proof" || fail "--backend cpu differs from auto"
"$TVM" prove-block --shape "$SHAPE" --seed 3 --backend hostsim -o "$DIR/h.proof" --json >"$DIR/out" 2>&1; rc=$?
if [ "$rc" = 2 ] && grep -q "not built" "$DIR/out"; then
  echo "host-sim not built: --backend hostsim skipped"
else
  [ "$rc" = 0 ] || { cat "$DIR/out"; fail "--backend hostsim exit $rc"; }
  grep -q '"backend":"hostsim"' "$DIR/out" || fail "hostsim backend not reported"
  grep -q '"forward_gemm":"cpu (host-sim' "$DIR/out" || fail "hostsim forward gemm not reported"
  cmp "$DIR/b.proof" "$DIR/h.proof" || fail "--backend hostsim proof differs from the CPU's"
  expect 0 "$TVM" prove-block --shape "$SHAPE" --decode-steps 2 --backend hostsim -o "$DIR/hd.proof"
  cmp "$DIR/d.proof" "$DIR/hd.proof" || fail "--backend hostsim decode chain differs from the CPU's"
fi
expect 2 "$TVM" prove-block --shape "$SHAPE" --backend dual -o "$DIR/x"
grep -q "auto, cpu, cuda or hostsim" "$DIR/out" || fail "bad --backend not explained"
python3 - "$DIR/b.proof" "$DIR/flip.proof" "$DIR/short.proof" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
f = bytearray(b); f[len(f) // 2] ^= 0x40; open(sys.argv[2], 'wb').write(f)
open(sys.argv[3], 'wb').write(b[: len(b) // 3])
PY
expect 3 "$TVM" verify "$DIR/flip.proof"
expect 3 "$TVM" verify "$DIR/short.proof"
grep -q "malformed proof file" "$DIR/out" || fail "truncation not reported as malformed"
# A shape that is not a power of two (zero-padded inside the MLEs) proves and verifies.
expect 0 "$TVM" prove-block --shape d_model=24,q_heads=3,kv_heads=1,head_dim=6,ffn=40,seq_len=3 --seed 2 -o "$DIR/odd.proof"
expect 0 "$TVM" verify "$DIR/odd.proof"
grep -q "verdict: accepted" "$DIR/out" || fail "verify did not accept the odd shape"
expect 2 "$TVM" prove-block --shape d_model=24,q_heads=2,kv_heads=1,head_dim=7,ffn=32,seq_len=4 -o "$DIR/x"
expect 0 "$TVM" prove-block --shape d_model=24,q_heads=3,kv_heads=1,head_dim=6,ffn=40,seq_len=3 --seed 2 --decode-steps 3 -o "$DIR/oddd.proof"
expect 0 "$TVM" verify "$DIR/oddd.proof"
# A shape whose prover would not fit in memory is refused up front (no OOM kill).
expect 2 "$TVM" prove-block --shape d_model=32768,q_heads=1,kv_heads=1,head_dim=2,ffn=32768,seq_len=1 -o "$DIR/x"
grep -q "prover memory" "$DIR/out" || fail "the memory refusal does not say why"
expect 2 "$TVM" prove-block --shape d_model=16 -o "$DIR/x"
expect 2 "$TVM" prove-block --shape "$SHAPE" --decode-steps 5 -o "$DIR/x"
printf 'short' > "$DIR/bad.safetensors"
expect 1 "$TVM" prove-block --shape "$SHAPE" --weights "$DIR/bad.safetensors" -o "$DIR/x"
grep -q "bad.safetensors" "$DIR/out" || fail "the SafeTensors error does not name the file"
echo "cli block test passed"
