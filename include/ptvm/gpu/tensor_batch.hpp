// The tensor engine on the GPU: a vm::TensorFfn whose GEMMs run on the device (under host-sim or
// natively), and a TensorBatch built on it. Everything but the FFN (the attention read over the
// hull KV caches, the stack checks, flag rules, halting and the memory write) is the CPU
// TensorBatch's own host code, so results equal the CPU tensor engine's step by step.
//
// The model's stacked weights are uploaded once, at construction. Per step (one evaluate()):
//   1 upload     X (rows x 41) and the group descriptors packed in one staging buffer (the cuBLAS
//                path adds each row's block index and the grouped GEMMs' pointer arrays to it);
//   launches     OwnKernel: 1 (tensor_ffn_fused: every group, every row);
//                Cublas: 3 (grouped GEMM, bias + bilinear kernel, grouped GEMM);
//   1 download   Y (rows x 6);
//   1 round trip the host waits once for the stream (the next step's attention read needs Y).
// None of these grow with the number of machines or of pc groups; only the bytes do.
//
// Precision: FP64, exact (ptvm/gpu/tensor_gemm.hpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/tensor_gemm.hpp"
#include "ptvm/vm/tensor_engine.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// What a DeviceTensorFfn did, for benchmarks and tests (per-step figures: divide by steps).
struct DeviceTensorCounters {
  uint64_t steps = 0;     // evaluate() calls
  uint64_t rows = 0;      // machine-steps evaluated
  uint64_t launches = 0;  // kernel launches plus cuBLAS GEMM calls
  uint64_t uploads = 0;   // host -> device copies (weights not included)
  uint64_t downloads = 0;  // device -> host copies
  uint64_t bytes_to_device = 0;
  uint64_t bytes_to_host = 0;
  uint64_t round_trips = 0;    // times the host waited for the device
  uint64_t weight_uploads = 0;  // at construction, once
  uint64_t weight_bytes = 0;
};

class DeviceTensorFfn final : public vm::TensorFfn {
public:
  // Uploads the model's weights. Throws ptvm::Error: Device when no device is visible, Usage for
  // the Cublas path where cuBLAS is absent (host-sim) or a model beyond the kernels' index range.
  DeviceTensorFfn(const vm::TensorModel& model, TensorGemmPath path);
  ~DeviceTensorFfn() override;

  std::string name() const override;  // "hostsim: own FP64 kernel", "cuda: cuBLAS", ...
  void evaluate(const vm::TensorModel& model, std::span<const vm::TensorRowGroup> groups,
                std::span<const double> x, std::span<double> y) override;

  TensorGemmPath path() const { return path_; }
  const DeviceTensorCounters& counters() const { return counters_; }
  void reset_counters();  // the per-step counters; the weight figures stay

private:
  void layout(size_t rows, size_t n_groups);
  void reserve(size_t rows, size_t n_groups);  // grows the buffers if needed, then layout()
  size_t pack(std::span<const double> x);     // fills the host staging; returns the bytes to upload
  // The uploaded weights as the kernels and cuBLAS take them (fixed after construction).
  TensorFfnWeights weights() const {
    return {gate_value_.cptr(), gate_value_bias_.cptr(), output_.cptr(), output_bias_.cptr(), blocks_, hidden_};
  }

  TensorGemmPath path_;
  uint32_t blocks_ = 0, hidden_ = 0;
  Stream stream_;
  DeviceBuffer<double> gate_value_, gate_value_bias_, output_, output_bias_;
  std::unique_ptr<CublasFfn> cublas_;  // the Cublas path only; destroyed before stream_
  // Device scratch, grown to the largest step so far.
  size_t row_capacity_ = 0, group_capacity_ = 0;
  DeviceBuffer<uint8_t> staging_;
  DeviceBuffer<double> y_, gate_value_out_, hidden_out_;
  // This step's staging layout (bytes from the start of staging_).
  size_t groups_offset_ = 0, row_block_offset_ = 0, pointers_offset_ = 0, staging_bytes_ = 0;
  // Host scratch.
  std::vector<uint8_t> host_staging_;
  std::vector<GemmGroup> groups_;
  std::vector<const void*> pointers_;  // the cuBLAS pointer arrays before packing
  DeviceTensorCounters counters_;
};

// Makes DeviceTensorFfns for TensorBatch / RunOptions::tensor_ffn.
vm::TensorFfnFactory device_tensor_ffn_factory(TensorGemmPath path);

// A TensorBatch whose FFN runs on the device.
class DeviceTensorBatch {
public:
  DeviceTensorBatch(const vm::CompiledModel& model,
                    const std::vector<std::vector<int16_t>>& initial_memories, uint64_t max_steps,
                    vm::AttentionMode attention, bool record_trace,
                    TensorGemmPath path = TensorGemmPath::OwnKernel);

  vm::TensorBatch& batch() { return batch_; }
  const vm::TensorBatch& batch() const { return batch_; }
  size_t step() { return batch_.step(); }
  void run() { batch_.run(); }
  DeviceTensorFfn& device() const { return static_cast<DeviceTensorFfn&>(batch_.ffn()); }

private:
  vm::TensorBatch batch_;
};

PTVM_GPU_NAMESPACE_END
