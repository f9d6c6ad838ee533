// The MPI communicator (see ptvm/comm/mpi_communicator.hpp). Variable-size collectives exchange
// the sizes first (MPI_Allgather / MPI_Alltoall / MPI_Gather of one count per rank), then the
// bytes (the v-variants). Built only into ptvm::mpi, never into the core library.
#include "ptvm/comm/mpi_communicator.hpp"

#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>

#include "ptvm/common/error.hpp"

namespace ptvm::comm {
namespace {

void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    length = 0;
  throw Error(ErrorCategory::Runtime,
              std::string(file) + ":" + std::to_string(line) + ": " + call +
                  " failed: " + std::string(text, static_cast<size_t>(length)));
}
#define PTVM_MPI_CHECK(call) ::ptvm::comm::check_mpi((call), #call, __FILE__, __LINE__)

int count_of(size_t bytes, const char* collective) {
  if (bytes > static_cast<size_t>(INT_MAX))
    throw Error(ErrorCategory::Usage, std::string(collective) + ": a block of " +
                                          std::to_string(bytes) +
                                          " bytes is above MPI's limit of 2^31 - 1");
  return static_cast<int>(bytes);
}

// Displacements of blocks laid end to end; Usage error if the total passes MPI's int range.
std::vector<int> displacements(const std::vector<int>& counts, const char* collective) {
  std::vector<int> out(counts.size());
  long long total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    out[i] = static_cast<int>(total);
    total += counts[i];
    if (total > INT_MAX)
      throw Error(ErrorCategory::Usage, std::string(collective) + ": " + std::to_string(total) +
                                            "+ bytes in all, above MPI's limit of 2^31 - 1");
  }
  return out;
}

std::vector<Bytes> split(const Bytes& all, const std::vector<int>& counts,
                         const std::vector<int>& displs) {
  std::vector<Bytes> out(counts.size());
  for (size_t r = 0; r < counts.size(); ++r)
    out[r].assign(all.begin() + displs[r], all.begin() + displs[r] + counts[r]);
  return out;
}

bool mpi_communicator_alive = false;

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator() {
    int initialized = 0;
    PTVM_MPI_CHECK(MPI_Initialized(&initialized));
    if (!initialized) {
      int provided = 0;
      PTVM_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
      owns_mpi_ = true;
    }
    // Errors come back as codes (checked above) rather than aborting inside MPI.
    PTVM_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    PTVM_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    PTVM_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  }
  ~MpiCommunicator() override {
    mpi_communicator_alive = false;
    // Leaving by an exception while the other ranks may wait in a collective: end the whole job
    // rather than leave them blocked (MPI_Finalize would wait for them).
    if (std::uncaught_exceptions() > 0 && size_ > 1) {
      std::fprintf(stderr, "error: MPI rank %d is failing; aborting the job\n", rank_);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int finalized = 0;
    if (owns_mpi_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized)
      MPI_Finalize(); // never throws
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view kind() const override { return "mpi"; }

  void barrier() override { PTVM_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

  void broadcast(Bytes& bytes, int root) override {
    check_root(*this, root, "broadcast");
    unsigned long long n = bytes.size();
    PTVM_MPI_CHECK(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD));
    const int count = count_of(static_cast<size_t>(n), "broadcast");
    if (rank_ != root)
      bytes.resize(static_cast<size_t>(n));
    if (count > 0)
      PTVM_MPI_CHECK(MPI_Bcast(bytes.data(), count, MPI_BYTE, root, MPI_COMM_WORLD));
  }

  std::vector<Bytes> all_gather(std::span<const uint8_t> bytes) override {
    int mine = count_of(bytes.size(), "all_gather");
    std::vector<int> counts(size_);
    PTVM_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD));
    const std::vector<int> displs = displacements(counts, "all_gather");
    Bytes all(static_cast<size_t>(displs.back()) + counts.back());
    PTVM_MPI_CHECK(MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(),
                                  displs.data(), MPI_BYTE, MPI_COMM_WORLD));
    return split(all, counts, displs);
  }

  std::vector<Bytes> all_to_all(const std::vector<Bytes>& blocks) override {
    if (blocks.size() != static_cast<size_t>(size_))
      throw Error(ErrorCategory::Usage, "all_to_all: " + std::to_string(blocks.size()) +
                                            " blocks for a group of " + std::to_string(size_) +
                                            " ranks");
    std::vector<int> send_counts(size_), recv_counts(size_);
    for (int r = 0; r < size_; ++r)
      send_counts[r] = count_of(blocks[r].size(), "all_to_all");
    PTVM_MPI_CHECK(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT,
                                MPI_COMM_WORLD));
    const std::vector<int> send_displs = displacements(send_counts, "all_to_all");
    const std::vector<int> recv_displs = displacements(recv_counts, "all_to_all");
    Bytes send;
    send.reserve(static_cast<size_t>(send_displs.back()) + send_counts.back());
    for (const Bytes& b : blocks)
      send.insert(send.end(), b.begin(), b.end());
    Bytes recv(static_cast<size_t>(recv_displs.back()) + recv_counts.back());
    PTVM_MPI_CHECK(MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), MPI_BYTE,
                                 recv.data(), recv_counts.data(), recv_displs.data(), MPI_BYTE,
                                 MPI_COMM_WORLD));
    return split(recv, recv_counts, recv_displs);
  }

  std::vector<Bytes> gather(std::span<const uint8_t> bytes, int root) override {
    check_root(*this, root, "gather");
    int mine = count_of(bytes.size(), "gather");
    std::vector<int> counts(rank_ == root ? size_ : 0);
    PTVM_MPI_CHECK(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, MPI_COMM_WORLD));
    if (rank_ != root) {
      PTVM_MPI_CHECK(MPI_Gatherv(bytes.data(), mine, MPI_BYTE, nullptr, nullptr, nullptr, MPI_BYTE,
                                 root, MPI_COMM_WORLD));
      return {};
    }
    const std::vector<int> displs = displacements(counts, "gather");
    Bytes all(static_cast<size_t>(displs.back()) + counts.back());
    PTVM_MPI_CHECK(MPI_Gatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(),
                               displs.data(), MPI_BYTE, root, MPI_COMM_WORLD));
    return split(all, counts, displs);
  }

private:
  int rank_ = 0, size_ = 1;
  bool owns_mpi_ = false;
};

} // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  if (mpi_communicator_alive)
    throw Error(ErrorCategory::Usage, "make_mpi_communicator: one MPI communicator exists already");
  auto comm = std::make_unique<MpiCommunicator>();
  mpi_communicator_alive = true;
  return comm;
}

} // namespace ptvm::comm
