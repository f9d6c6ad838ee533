// The GPU sumcheck backend (cuda/sumcheck/gpu_sumcheck_backend.cpp): sumcheck::SumcheckBackend on
// the kernels of kernels/sumcheck/ (round sum, fix variable, eq table, fused matrix restriction).
// Tables stay in device memory for all rounds of a sumcheck; only the round sums (degree + 1
// QM31 per round, after an on-device block reduction) come back. upload_matrix keeps M31 values
// (a model's packed weight table) in device memory for the restrictions of many proofs. Every
// upload passes through one pinned staging buffer of the backend, on its stream (pinned PCIe
// rate, not overlapped with its kernels). Under host-sim (ptvm::hostsim)
// the same kernels run on the CPU; transcripts are byte-identical to the CPU backend's.
#pragma once
#include <memory>

#include "ptvm/gpu/config.hpp"
#include "ptvm/sumcheck/backend.hpp"

PTVM_GPU_NAMESPACE_BEGIN

std::unique_ptr<sumcheck::SumcheckBackend> make_gpu_sumcheck_backend(stream_t stream = nullptr);

PTVM_GPU_NAMESPACE_END
