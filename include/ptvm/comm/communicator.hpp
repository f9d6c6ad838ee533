// Communicator: the collectives a group of ranks (threads of one process, MPI processes, GPUs)
// uses to share work, written once against this interface (DESIGN.md "Batches and many GPUs").
//
// Every rank of a group calls the same collectives in the same order (as MPI requires); a
// collective returns when this rank's part is done. Host collectives move byte blocks of any size
// (each rank's block may differ in size); results are indexed by rank. Device collectives
// (fixed-size blocks in device memory, on a CUDA stream) are offered by the NCCL implementation
// only (device_buffers()); the others throw ptvm::Error(Usage).
//
// Implementations:
//   thread    in-process, N ranks over threads (run_ranks below; tests, CPU ranks)
//   mpi       one rank per MPI process (ptvm/comm/mpi_communicator.hpp, target ptvm::mpi)
//   nccl      one rank per GPU; host collectives go to the bootstrap communicator it was made
//             from (ptvm/comm/nccl_communicator.hpp, in ptvm::cuda)
//
// A failure in one rank does not hang the others: the thread implementation wakes every waiting
// rank with ptvm::Error(Runtime, "rank R failed: ..."), MPI aborts the job (its default handler).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ptvm::comm {

using Bytes = std::vector<uint8_t>;

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "thread", "mpi" or "nccl" (reports, errors).
  virtual std::string_view kind() const = 0;

  // Returns once every rank has entered it.
  virtual void barrier() = 0;
  // `bytes` of `root` on every rank (other ranks' contents and sizes are replaced).
  virtual void broadcast(Bytes& bytes, int root) = 0;
  // Every rank's block, indexed by rank, on every rank.
  virtual std::vector<Bytes> all_gather(std::span<const uint8_t> bytes) = 0;
  // blocks[r] (exactly size() blocks) goes to rank r; returns the blocks sent to this rank,
  // indexed by sender.
  virtual std::vector<Bytes> all_to_all(const std::vector<Bytes>& blocks) = 0;
  // Every rank's block, indexed by rank, on `root`; an empty vector on the other ranks.
  virtual std::vector<Bytes> gather(std::span<const uint8_t> bytes, int root) = 0;

  // Device buffers (blocks of `bytes_per_rank` bytes in device memory; `stream` a cudaStream_t,
  // nullptr for the default stream). The call enqueues the collective on the stream.
  virtual bool device_buffers() const { return false; }
  // recv holds size() blocks, block r from rank r.
  virtual void all_gather_device(const void* send, void* recv, size_t bytes_per_rank, void* stream);
  // send and recv hold size() blocks: send block r goes to rank r, recv block r came from rank r.
  virtual void all_to_all_device(const void* send, void* recv, size_t bytes_per_rank, void* stream);
  virtual void broadcast_device(void* buffer, size_t bytes, int root, void* stream);
  // Variable-size blocks (size() entries each): send_bytes[r] bytes at send + send_offsets[r] go to
  // rank r, recv_bytes[r] bytes from rank r land at recv + recv_offsets[r] (rank r's send_bytes[me]
  // must equal my recv_bytes[r]).
  virtual void all_to_all_v_device(const void* send, std::span<const size_t> send_offsets,
                                   std::span<const size_t> send_bytes, void* recv,
                                   std::span<const size_t> recv_offsets,
                                   std::span<const size_t> recv_bytes, void* stream);
};

// Checks a root argument (Usage error naming the collective).
void check_root(const Communicator& comm, int root, const char* collective);

// ---- the in-process implementation -------------------------------------------------------------

// One group of `size` ranks (1..4096) in this process: one handle per rank, each used by exactly
// one thread. Ranks that call different collectives at the same point get ptvm::Error(Internal)
// naming both. A handle destroyed while its rank's peers still wait (the rank's thread left by an
// exception) fails the group: every collective waiting then or called later throws
// ptvm::Error(Runtime, "rank R failed: ...").
std::vector<std::unique_ptr<Communicator>> make_thread_communicators(int size);

// Runs fn(comm) on `ranks` threads (rank 0 on the calling thread), each with its thread
// communicator, and returns when all are done. An exception leaving one rank fails the group, so
// ranks blocked in a collective are released with an error instead of hanging; the first
// exception (by time) is rethrown, a rank's own error before the "rank R failed" errors it caused.
void run_ranks(int ranks, const std::function<void(Communicator&)>& fn);

// ---- little-endian framing of byte blocks (used by the collectives' callers) --------------------

class ByteWriter {
public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v);
  void u64(uint64_t v);
  void f64(double v);
  void bytes(std::span<const uint8_t> b); // length (u64) then the bytes
  void string(std::string_view s);
  Bytes take() { return std::move(out_); }

private:
  Bytes out_;
};

// Reading what a ByteWriter wrote; a short or oversized field throws ptvm::Error(Parse) naming
// `what` (a block received from another rank is checked, not trusted).
class ByteReader {
public:
  ByteReader(std::span<const uint8_t> in, std::string what) : in_(in), what_(std::move(what)) {}
  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  double f64();
  Bytes bytes();
  std::string string();
  bool done() const { return pos_ == in_.size(); }

private:
  std::span<const uint8_t> take(size_t n);
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  std::string what_;
};

} // namespace ptvm::comm
