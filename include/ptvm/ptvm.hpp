// The whole public API of ptvm that plain C++ can include: everything under include/ptvm/ except
// include/ptvm/gpu/ (tests/install checks that this list stays complete). Link ptvm::ptvm.
//
// Not included: the GPU side, include/ptvm/gpu/. Its headers declare the names of one GPU runtime
// (gpu/config.hpp needs either PTVM_HOSTSIM, defined by ptvm::hostsim, or the CUDA toolkit's
// <cuda_runtime_api.h>, provided through ptvm::cuda), so a translation unit includes them itself
// and links the matching library (find_package(ptvm COMPONENTS hostsim) / COMPONENTS cuda):
//   gpu/vmair_device.hpp   vmair::register_device_airs(), vmair::group_proving(): the VM side of the
//                          device backend (ptvm::vm_hostsim / ptvm::vm_cuda)
//   gpu/cuda_backend.hpp   CudaBackend, make_cuda_backend(), make_dual_backend(), make_backend(name):
//                          a ptvm::Backend for stark::prove / vmair::ProveOptions::backend
//   gpu/sharded_device_backend.hpp  make_sharded_device_backend(comm): one trace sharded across
//                          devices, one rank per device (the device twin of shard/sharded_backend.hpp)
//   gpu/shard_exchange.hpp  its data movement kernels: tiled four-step transposes, exchange place
//                          tables computed on the device, the FFT's local layers for many columns
//   gpu/runtime.hpp        device buffers, streams, events, device discovery (device_available())
//   gpu/circle_fft.hpp, gpu/column_ops.hpp, gpu/device_wide.hpp, gpu/f128_ntt.hpp, gpu/merkle.hpp,
//   gpu/merkle_blake2b.hpp, gpu/pow.hpp, gpu/stark_kernels.hpp
//                          device primitives (circle FFT, column ops, scans, F128 NTT, Merkle, PoW)
//   gpu/stark128_backend.hpp  make_stark128_cuda_backend(), make_stark128_backend(name): a
//                          stark128::Backend128 for stark128::prove / statement_v1::ProveOptions::backend
//   gpu/stark128_kernels.hpp  its F128 kernels (bit reversal, Horner, DEEP, FRI fold, PoW, composition)
//   gpu/sumcheck_backend.hpp  make_gpu_sumcheck_backend(): a sumcheck::SumcheckBackend on the kernels
//   gpu/sumcheck_round.hpp, gpu/sumcheck_fix_variable.hpp, gpu/sumcheck_eq_table.hpp,
//   gpu/sumcheck_restrict.hpp
//                          sumcheck primitives (round sum, fix a variable, eq table, fused restriction)
//   gpu/int8_gemm.hpp      make_gpu_int8_gemm(): cuBLASLt int8 GEMMs (ptvm::cuda; CPU under host-sim)
//   gpu/device_air.cuh     device_air_kernels<Air>(), for a .cu file only (it defines kernels)
//   gpu/device.hpp, gpu/gptr.hpp, gpu/namespace.hpp, gpu/config.hpp, gpu/hostsim/*.hpp
//                          what kernel sources build on (host-sim's prelude: PTVM_HOSTSIM only)
//   gpu/cuda_check.hpp     the CUDA call-checking macro (CUDA builds only)
#pragma once

#include "ptvm/version.hpp"

// Common: errors, host/device annotations, wide-integer primitives, the strict JSON reader, threads.
#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/common/intrinsics.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/common/le_reader.hpp"
#include "ptvm/common/parallel.hpp"
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"

// Fields: M31 and its extensions, F128, batch inversion.
#include "ptvm/field/m31.hpp"
#include "ptvm/field/cm31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/field/f128.hpp"
#include "ptvm/field/batch_inverse.hpp"

// Circle group, domains, circle FFT, low-degree extension.
#include "ptvm/circle/point.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/circle/lde.hpp"

// NTT over F128.
#include "ptvm/ntt/ntt.hpp"

// Hashes, Fiat-Shamir channels, Merkle trees, proof of work.
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/blake2s_x16.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/blake2b_channel.hpp"
#include "ptvm/hash/blake2b_channel_f128.hpp"
#include "ptvm/hash/merkle_hash.hpp"
#include "ptvm/hash/merkle_walk.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/hash/merkle_generic.hpp"
#include "ptvm/hash/pow.hpp"

// AIR interface, evaluators, LogUp relations, packed evaluation, example AIRs.
#include "ptvm/air/relation.hpp"
#include "ptvm/air/succinct.hpp"
#include "ptvm/air/component.hpp"
#include "ptvm/air/eval.hpp"
#include "ptvm/air/packed.hpp"
#include "ptvm/air/logup.hpp"
#include "ptvm/air/packed_composition.hpp"
#include "ptvm/air/relabel.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/air/examples/range_check.hpp"

// The prover's backend interface (make_cpu_backend()).
#include "ptvm/backend.hpp"

// FRI and the PCS written once, generic over a spec (field, domain and fold map, Merkle hash,
// channel): the circle STARK's (M31/QM31, circle then line folds, BLAKE2s) and the F128 STARK's
// (multiplicative coset, x -> x^2, BLAKE2b).
#include "ptvm/fri/fri.hpp"
#include "ptvm/fri/fold.hpp"
#include "ptvm/fri/circle_spec.hpp"
#include "ptvm/fri/coset_spec.hpp"
#include "ptvm/pcs/pcs.hpp"

// Circle STARK: profiles, proof object and encodings, prover, verifier, FRI formulas.
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/fri_math.hpp"
#include "ptvm/stark/line_poly.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/stark/verifier.hpp"

// Sumcheck over MLEs: eq tables, the product sumcheck, matrix products, GKR (binary-tree and
// arbitrarily wired layered circuits), LogUp-GKR (public and committed columns), proof bytes, the
// multilinear commitment, exact int8 GEMMs (witnesses), and the sumcheck backend interface
// (make_cpu_sumcheck_backend()).
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/round.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"
#include "ptvm/sumcheck/streamed_sumcheck.hpp"
#include "ptvm/sumcheck/matmul.hpp"
#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/layered_gkr.hpp"
#include "ptvm/sumcheck/committed_lookup.hpp"
#include "ptvm/sumcheck/proof_io.hpp"
#include "ptvm/sumcheck/lazy_dot.hpp"
#include "ptvm/sumcheck/mle_commitment.hpp"
#include "ptvm/sumcheck/int8_gemm.hpp"

// The zkML layer: a computation graph over int8 values, its layers, the transformer block,
// block proof files and SafeTensors.
#include "ptvm/zkml/graph.hpp"
#include "ptvm/zkml/layers.hpp"
#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/block_io.hpp"
#include "ptvm/zkml/safetensors.hpp"

// The VM: ISA, assembler, engines (native, transformer), runner, batches, manifests.
#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/trace.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/native.hpp"
#include "ptvm/vm/hull_cache.hpp"
#include "ptvm/vm/attention_memory.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/transformer.hpp"
#include "ptvm/vm/tensor_engine.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vm/batch.hpp"
#include "ptvm/vm/manifest.hpp"

// VM proofs: the VM AIR, claims, VM profiles, prove_program / verify_proof and proof files.
#include "ptvm/vmair/vm_air.hpp"
#include "ptvm/vmair/claim.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"
#include "ptvm/vmair/batch.hpp"
#include "ptvm/vmair/aggregate.hpp"

// statement-v1: the STARK over F128 (the VM AIR run over F128, its proof and options) and the
// original's statement (claim, prove, verify, proof file).
#include "ptvm/stark128/air128.hpp"
#include "ptvm/stark128/backend.hpp"
#include "ptvm/stark128/stark128.hpp"
#include "ptvm/stark128/vm.hpp"
#include "ptvm/statement_v1/statement.hpp"

// Ranks: the Communicator interface and the in-process one (run_ranks). The MPI and NCCL
// factories are declared here without MPI/NCCL headers; they are defined in ptvm::mpi and
// ptvm::cuda (launched_by_mpi() in the core).
#include "ptvm/comm/communicator.hpp"
#include "ptvm/comm/mpi_communicator.hpp"
#include "ptvm/comm/nccl_communicator.hpp"

// One trace across ranks: the sharded backend (make_sharded_backend) and the four-step FFT.
#include "ptvm/shard/sharded_backend.hpp"
