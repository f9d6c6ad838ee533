#include "mpi_bridge.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>

#include "ptvm/common/error.hpp"
#if defined(TVM_WITH_MPI)
#include "ptvm/comm/mpi_communicator.hpp"
#endif

namespace tvm_cli {
namespace {

int env_int(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* v = std::getenv(name)) {
      const std::string_view text(v);
      int value = 0;
      const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
      if (r.ec == std::errc() && r.ptr == text.data() + text.size() && value >= 0)
        return value;
    }
  }
  return 0;
}

} // namespace

int mpi_world_size() { return env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}); }
int mpi_local_rank() {
  return env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"});
}

#if defined(TVM_WITH_MPI)
bool mpi_runtime_built() { return true; }
std::unique_ptr<ptvm::comm::Communicator> make_mpi_runtime_communicator() {
  return ptvm::comm::make_mpi_communicator();
}
#else
bool mpi_runtime_built() { return false; }
std::unique_ptr<ptvm::comm::Communicator> make_mpi_runtime_communicator() {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "this tvm was built without MPI (libopenmpi-dev)");
}
#endif

} // namespace tvm_cli
