// The tensor engine's FFN on the device (see ptvm/gpu/tensor_batch.hpp); built into ptvm::hostsim
// and ptvm::cuda alike.
#include <algorithm>
#include <cstring>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/tensor_batch.hpp"

PTVM_GPU_NAMESPACE_BEGIN

static_assert(kTensorFfnInputs == static_cast<uint32_t>(vm::kFfnInputs));
static_assert(kTensorFfnOutputs == static_cast<uint32_t>(vm::kFfnOutputs));

namespace {

constexpr size_t align16(size_t bytes) { return (bytes + 15) / 16 * 16; }

// The pointer arrays of the cuBLAS path: 6 per group.
constexpr size_t kPointerArrays = 6;

}  // namespace

void CublasFfn::pointer_arrays(const TensorFfnWeights& weights, const double* x,
                               double* gate_value_out, double* hidden_out, double* y,
                               std::span<const GemmGroup> groups, std::span<const void*> out) {
  const size_t g = groups.size(), H = weights.hidden;
  if (out.size() != kPointerArrays * g)
    throw Error(ErrorCategory::Internal,
                "CublasFfn::pointer_arrays: " + std::to_string(out.size()) + " slots for " +
                    std::to_string(g) + " groups");
  for (size_t i = 0; i < g; ++i) {
    const size_t row = groups[i].row_begin, block = groups[i].matrix;
    out[0 * g + i] = weights.gate_value.get() + block * 2 * H * kTensorFfnInputs;
    out[1 * g + i] = x + row * kTensorFfnInputs;
    out[2 * g + i] = gate_value_out + row * 2 * H;
    out[3 * g + i] = weights.output.get() + block * kTensorFfnOutputs * H;
    out[4 * g + i] = hidden_out + row * H;
    out[5 * g + i] = y + row * kTensorFfnOutputs;
  }
}

namespace {
// Runs before any member (the stream) touches the device, so a missing device is this error.
TensorGemmPath require_runnable(TensorGemmPath path) {
  if (!device_available())
    throw Error(ErrorCategory::Device, "tensor engine on the GPU: no CUDA device is visible");
  if (path == TensorGemmPath::Cublas && !cublas_available())
    throw Error(ErrorCategory::Usage,
                std::string("tensor engine: the cuBLAS path is not part of ") + runtime_name() +
                    " (use the own FP64 kernel)");
  return path;
}
}  // namespace

DeviceTensorFfn::DeviceTensorFfn(const vm::TensorModel& model, TensorGemmPath path)
    : path_(require_runnable(path)) {
  const size_t H = static_cast<size_t>(model.hidden), n = model.n_blocks;
  if (n == 0 || H == 0 || n > UINT32_MAX || 2 * H > INT32_MAX)
    throw Error(ErrorCategory::Usage, "tensor engine on the GPU: a model of " + std::to_string(n) +
                                          " blocks of hidden " + std::to_string(H) +
                                          " is outside the kernels' range");
  blocks_ = static_cast<uint32_t>(n);
  hidden_ = static_cast<uint32_t>(H);
  // Gate and value stacked per block: [n][2H][41] and [n][2H].
  std::vector<double> gate_value(n * 2 * H * kTensorFfnInputs), gate_value_bias(n * 2 * H);
  for (size_t p = 0; p < n; ++p) {
    const size_t rows = H * kTensorFfnInputs;
    std::copy_n(model.gate.data() + p * rows, rows, gate_value.data() + p * 2 * rows);
    std::copy_n(model.value.data() + p * rows, rows, gate_value.data() + p * 2 * rows + rows);
    std::copy_n(model.gate_bias.data() + p * H, H, gate_value_bias.data() + p * 2 * H);
    std::copy_n(model.value_bias.data() + p * H, H, gate_value_bias.data() + p * 2 * H + H);
  }
  gate_value_ = DeviceBuffer<double>::from_host(gate_value, stream_.get());
  gate_value_bias_ = DeviceBuffer<double>::from_host(gate_value_bias, stream_.get());
  output_ = DeviceBuffer<double>::from_host(model.output, stream_.get());
  output_bias_ = DeviceBuffer<double>::from_host(model.output_bias, stream_.get());
  counters_.weight_uploads = 4;
  counters_.weight_bytes = gate_value_.size_bytes() + gate_value_bias_.size_bytes() +
                           output_.size_bytes() + output_bias_.size_bytes();
  if (path == TensorGemmPath::Cublas)
    cublas_ = std::make_unique<CublasFfn>(stream_.get());
}

DeviceTensorFfn::~DeviceTensorFfn() = default;

std::string DeviceTensorFfn::name() const {
  return std::string(runtime_name()) + ": " + tensor_gemm_path_name(path_);
}

void DeviceTensorFfn::reset_counters() {
  const DeviceTensorCounters weights = counters_;
  counters_ = {};
  counters_.weight_uploads = weights.weight_uploads;
  counters_.weight_bytes = weights.weight_bytes;
}

// The staging layout of a step of `rows` rows and `n_groups` groups, packed so that one upload of
// staging_bytes moves only what the step needs: [X][groups] (+ cuBLAS: [row blocks][pointer
// arrays]), each region 16-byte aligned.
void DeviceTensorFfn::layout(size_t rows, size_t n_groups) {
  groups_offset_ = align16(rows * kTensorFfnInputs * sizeof(double));
  row_block_offset_ = align16(groups_offset_ + n_groups * sizeof(GemmGroup));
  if (path_ == TensorGemmPath::Cublas) {
    pointers_offset_ = align16(row_block_offset_ + rows * sizeof(uint32_t));
    staging_bytes_ = pointers_offset_ + kPointerArrays * n_groups * sizeof(void*);
  } else {
    pointers_offset_ = row_block_offset_;
    staging_bytes_ = groups_offset_ + n_groups * sizeof(GemmGroup);
  }
}

void DeviceTensorFfn::reserve(size_t rows, size_t n_groups) {
  if (rows > row_capacity_ || n_groups > group_capacity_) {
    row_capacity_ = std::max({rows, 2 * row_capacity_, size_t{kGemmTileRows}});
    group_capacity_ = std::max({n_groups, 2 * group_capacity_, size_t{16}});
    layout(row_capacity_, group_capacity_);  // the largest layout these capacities allow
    staging_ = DeviceBuffer<uint8_t>(staging_bytes_ + 16);
    host_staging_.assign(staging_bytes_ + 16, 0);
    y_ = DeviceBuffer<double>(row_capacity_ * kTensorFfnOutputs);
    if (path_ == TensorGemmPath::Cublas) {
      gate_value_out_ = DeviceBuffer<double>(row_capacity_ * 2 * hidden_);
      hidden_out_ = DeviceBuffer<double>(row_capacity_ * hidden_);
    }
  }
  layout(rows, n_groups);
}

size_t DeviceTensorFfn::pack(std::span<const double> x) {
  uint8_t* host = host_staging_.data();
  std::memcpy(host, x.data(), x.size_bytes());
  std::memcpy(host + groups_offset_, groups_.data(), groups_.size() * sizeof(GemmGroup));
  if (path_ == TensorGemmPath::Cublas) {
    auto* row_block = reinterpret_cast<uint32_t*>(host + row_block_offset_);
    for (const GemmGroup& g : groups_)
      std::fill_n(row_block + g.row_begin, g.row_count, g.matrix);
    pointers_.resize(kPointerArrays * groups_.size());
    CublasFfn::pointer_arrays(weights(), reinterpret_cast<const double*>(staging_.data()),
                              gate_value_out_.data(), hidden_out_.data(), y_.data(), groups_,
                              pointers_);
    std::memcpy(host + pointers_offset_, pointers_.data(), pointers_.size() * sizeof(void*));
  }
  return staging_bytes_;
}

void DeviceTensorFfn::evaluate(const vm::TensorModel& model,
                               std::span<const vm::TensorRowGroup> groups,
                               std::span<const double> x, std::span<double> y) {
  if (model.n_blocks != blocks_ || static_cast<size_t>(model.hidden) != hidden_)
    throw Error(ErrorCategory::Internal,
                "DeviceTensorFfn: evaluate() with another model than the uploaded one");
  const size_t rows = x.size() / kTensorFfnInputs;
  if (x.size() != rows * kTensorFfnInputs || y.size() != rows * kTensorFfnOutputs ||
      rows > UINT32_MAX)
    throw Error(ErrorCategory::Internal, "DeviceTensorFfn: X / Y sizes do not match");
  groups_.clear();
  size_t covered = 0;
  for (const vm::TensorRowGroup& g : groups) {
    if (g.rows == 0) continue;
    if (g.block >= blocks_ || g.first_row + g.rows > rows)
      throw Error(ErrorCategory::Internal, "DeviceTensorFfn: a row group outside X or the model");
    groups_.push_back({static_cast<uint32_t>(g.first_row), static_cast<uint32_t>(g.rows),
                       static_cast<uint32_t>(g.block), 0});
    covered += g.rows;
  }
  if (covered != rows)
    throw Error(ErrorCategory::Internal, "DeviceTensorFfn: the row groups do not cover X");
  if (rows == 0) return;
  const uint32_t n_tiles = plan_gemm_groups(groups_);
  reserve(rows, groups_.size());
  const size_t bytes = pack(x);

  const stream_t s = stream_.get();
  const TensorFfnWeights w = weights();
  uint8_t* base = staging_.data();
  const gptr<const double> x_dev(reinterpret_cast<const double*>(base), rows * kTensorFfnInputs);
  const gptr<const GemmGroup> groups_dev(reinterpret_cast<const GemmGroup*>(base + groups_offset_),
                                         groups_.size());
  copy_to_device(base, host_staging_.data(), bytes, s);
  if (path_ == TensorGemmPath::OwnKernel) {
    tensor_ffn_fused(w, x_dev, y_.ptr(), groups_dev, static_cast<uint32_t>(groups_.size()), n_tiles,
                     s);
    counters_.launches += 1;
  } else {
    const gptr<const uint32_t> row_block(
        reinterpret_cast<const uint32_t*>(base + row_block_offset_), rows);
    cublas_->evaluate(w, x_dev, gate_value_out_.ptr(), hidden_out_.ptr(), y_.ptr(), row_block, rows,
                      groups_, reinterpret_cast<const void* const*>(base + pointers_offset_));
    counters_.launches += 3;
  }
  copy_to_host(y.data(), y_.data(), y.size_bytes(), s);
  synchronize(s);
  counters_.steps += 1;
  counters_.rows += rows;
  counters_.uploads += 1;
  counters_.downloads += 1;
  counters_.bytes_to_device += bytes;
  counters_.bytes_to_host += y.size_bytes();
  counters_.round_trips += 1;
}

vm::TensorFfnFactory device_tensor_ffn_factory(TensorGemmPath path) {
  return [path](const vm::TensorModel& model) -> std::unique_ptr<vm::TensorFfn> {
    return std::make_unique<DeviceTensorFfn>(model, path);
  };
}

DeviceTensorBatch::DeviceTensorBatch(const vm::CompiledModel& model,
                                     const std::vector<std::vector<int16_t>>& initial_memories,
                                     uint64_t max_steps, vm::AttentionMode attention,
                                     bool record_trace, TensorGemmPath path)
    : batch_(model, initial_memories, max_steps, attention, record_trace,
             device_tensor_ffn_factory(path)) {}

PTVM_GPU_NAMESPACE_END
