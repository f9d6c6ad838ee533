// The NCCL communicator (see ptvm/comm/nccl_communicator.hpp). Compiled into ptvm::cuda only;
// PTVM_WITH_NCCL is defined when CMake found NCCL and PTVM_ENABLE_NCCL is on, otherwise this file
// is the stub that says so.
#include "ptvm/comm/nccl_communicator.hpp"

#include "ptvm/common/error.hpp"

#if defined(PTVM_WITH_NCCL)
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <string>

#include "ptvm/gpu/cuda_check.hpp"
#endif

namespace ptvm::comm {

#if defined(PTVM_WITH_NCCL)
namespace {

void check_nccl(ncclResult_t status, const char* call, const char* file, int line) {
  if (status == ncclSuccess)
    return;
  throw Error(ErrorCategory::Device, std::string(file) + ":" + std::to_string(line) + ": " + call +
                                         " failed: " + ncclGetErrorString(status));
}
#define PTVM_NCCL_CHECK(call) ::ptvm::comm::check_nccl((call), #call, __FILE__, __LINE__)

class NcclCommunicator final : public Communicator {
public:
  NcclCommunicator(Communicator& bootstrap, int device) : bootstrap_(bootstrap), device_(device) {
    int devices = 0;
    PTVM_CUDA_CHECK(cudaGetDeviceCount(&devices));
    if (device < 0 || device >= devices)
      throw Error(ErrorCategory::Device, "nccl communicator: device " + std::to_string(device) +
                                             " is not one of the " + std::to_string(devices) +
                                             " visible devices");
    // The unique id is made once, by rank 0, and reaches the others over the bootstrap group
    // (threads in one process, MPI across processes and nodes).
    Bytes id_bytes(sizeof(ncclUniqueId));
    if (bootstrap.rank() == 0) {
      ncclUniqueId id;
      PTVM_NCCL_CHECK(ncclGetUniqueId(&id));
      std::memcpy(id_bytes.data(), &id, sizeof id);
    }
    bootstrap.broadcast(id_bytes, 0);
    if (id_bytes.size() != sizeof(ncclUniqueId))
      throw Error(ErrorCategory::Internal, "nccl communicator: the broadcast unique id has " +
                                               std::to_string(id_bytes.size()) + " bytes");
    ncclUniqueId id;
    std::memcpy(&id, id_bytes.data(), sizeof id);
    PTVM_CUDA_CHECK(cudaSetDevice(device_));
    PTVM_NCCL_CHECK(ncclCommInitRank(&comm_, bootstrap.size(), id, bootstrap.rank()));
  }
  ~NcclCommunicator() override {
    if (comm_)
      (void)ncclCommDestroy(comm_); // a destructor never throws
  }
  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string_view kind() const override { return "nccl"; }

  // Host collectives: the bootstrap group's.
  void barrier() override { bootstrap_.barrier(); }
  void broadcast(Bytes& bytes, int root) override { bootstrap_.broadcast(bytes, root); }
  std::vector<Bytes> all_gather(std::span<const uint8_t> bytes) override {
    return bootstrap_.all_gather(bytes);
  }
  std::vector<Bytes> all_to_all(const std::vector<Bytes>& blocks) override {
    return bootstrap_.all_to_all(blocks);
  }
  std::vector<Bytes> gather(std::span<const uint8_t> bytes, int root) override {
    return bootstrap_.gather(bytes, root);
  }

  bool device_buffers() const override { return true; }
  void all_gather_device(const void* send, void* recv, size_t bytes_per_rank,
                         void* stream) override {
    PTVM_CUDA_CHECK(cudaSetDevice(device_));
    PTVM_NCCL_CHECK(ncclAllGather(send, recv, bytes_per_rank, ncclUint8, comm_,
                                  static_cast<cudaStream_t>(stream)));
  }
  void all_to_all_device(const void* send, void* recv, size_t bytes_per_rank,
                         void* stream) override {
    PTVM_CUDA_CHECK(cudaSetDevice(device_));
    const auto* in = static_cast<const uint8_t*>(send);
    auto* out = static_cast<uint8_t*>(recv);
    const auto s = static_cast<cudaStream_t>(stream);
    // One group of point-to-point calls: NCCL runs them together (no all-to-all primitive).
    PTVM_NCCL_CHECK(ncclGroupStart());
    ncclResult_t status = ncclSuccess;
    for (int r = 0; r < size() && status == ncclSuccess; ++r) {
      status = ncclSend(in + static_cast<size_t>(r) * bytes_per_rank, bytes_per_rank, ncclUint8, r,
                        comm_, s);
      if (status == ncclSuccess)
        status = ncclRecv(out + static_cast<size_t>(r) * bytes_per_rank, bytes_per_rank, ncclUint8,
                          r, comm_, s);
    }
    const ncclResult_t end = ncclGroupEnd(); // always closes the group
    PTVM_NCCL_CHECK(status);
    PTVM_NCCL_CHECK(end);
  }
  void all_to_all_v_device(const void* send, std::span<const size_t> send_offsets,
                           std::span<const size_t> send_bytes, void* recv, std::span<const size_t> recv_offsets,
                           std::span<const size_t> recv_bytes, void* stream) override {
    const size_t n = static_cast<size_t>(size());
    if (send_offsets.size() != n || send_bytes.size() != n || recv_offsets.size() != n || recv_bytes.size() != n)
      throw Error(ErrorCategory::Usage, "all_to_all_v_device: offsets and sizes need one entry per rank");
    PTVM_CUDA_CHECK(cudaSetDevice(device_));
    const auto* in = static_cast<const uint8_t*>(send);
    auto* out = static_cast<uint8_t*>(recv);
    const auto s = static_cast<cudaStream_t>(stream);
    PTVM_NCCL_CHECK(ncclGroupStart());
    ncclResult_t status = ncclSuccess;
    for (size_t r = 0; r < n && status == ncclSuccess; ++r) {
      if (send_bytes[r])
        status = ncclSend(in + send_offsets[r], send_bytes[r], ncclUint8, static_cast<int>(r), comm_, s);
      if (status == ncclSuccess && recv_bytes[r])
        status = ncclRecv(out + recv_offsets[r], recv_bytes[r], ncclUint8, static_cast<int>(r), comm_, s);
    }
    const ncclResult_t end = ncclGroupEnd();  // always closes the group
    PTVM_NCCL_CHECK(status);
    PTVM_NCCL_CHECK(end);
  }
  void broadcast_device(void* buffer, size_t bytes, int root, void* stream) override {
    check_root(*this, root, "broadcast_device");
    PTVM_CUDA_CHECK(cudaSetDevice(device_));
    PTVM_NCCL_CHECK(ncclBroadcast(buffer, buffer, bytes, ncclUint8, root, comm_,
                                  static_cast<cudaStream_t>(stream)));
  }

private:
  Communicator& bootstrap_;
  int device_;
  ncclComm_t comm_ = nullptr;
};

} // namespace

bool nccl_communicator_built() { return true; }

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device) {
  return std::make_unique<NcclCommunicator>(bootstrap, device);
}

#else

bool nccl_communicator_built() { return false; }

std::unique_ptr<Communicator> make_nccl_communicator(Communicator&, int) {
  throw Error(ErrorCategory::Usage, "the NCCL communicator is not built (configure with "
                                    "-DPTVM_ENABLE_NCCL=ON where NCCL is installed)");
}

#endif

} // namespace ptvm::comm
