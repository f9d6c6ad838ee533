// The in-process communicator: N ranks over threads sharing one Group. Every collective is one
// rendezvous in two phases: each rank posts a pointer to its contribution and waits until all have
// posted (arrival), reads what it needs from the others' contributions, then waits until all have
// read (departure), so that no contribution (on its owner's stack) is released while a peer still
// reads it. A rank that leaves the group (its handle destroyed, or run_ranks catching its
// exception) wakes every waiting rank with an error instead of leaving it blocked.
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "ptvm/comm/communicator.hpp"
#include "ptvm/common/error.hpp"

namespace ptvm::comm {

void Communicator::all_gather_device(const void*, void*, size_t, void*) {
  throw Error(ErrorCategory::Usage,
              std::string(kind()) +
                  " communicator: no device-buffer collectives (all_gather_device)");
}
void Communicator::all_to_all_device(const void*, void*, size_t, void*) {
  throw Error(ErrorCategory::Usage,
              std::string(kind()) +
                  " communicator: no device-buffer collectives (all_to_all_device)");
}
void Communicator::broadcast_device(void*, size_t, int, void*) {
  throw Error(ErrorCategory::Usage,
              std::string(kind()) +
                  " communicator: no device-buffer collectives (broadcast_device)");
}
void Communicator::all_to_all_v_device(const void*, std::span<const size_t>, std::span<const size_t>, void*,
                                       std::span<const size_t>, std::span<const size_t>, void*) {
  throw Error(ErrorCategory::Usage, std::string(kind()) +
                                        " communicator: no device-buffer collectives (all_to_all_v_device)");
}

void check_root(const Communicator& comm, int root, const char* collective) {
  if (root < 0 || root >= comm.size())
    throw Error(ErrorCategory::Usage, std::string(collective) + ": root " + std::to_string(root) +
                                          " is not a rank of this group of " +
                                          std::to_string(comm.size()));
}

namespace {

// Thrown to ranks released because another rank failed (run_ranks prefers the cause).
class GroupFailed : public Error {
public:
  explicit GroupFailed(const std::string& message) : Error(ErrorCategory::Runtime, message) {}
};

struct Group {
  explicit Group(int n) : size(n), posted(n, nullptr), ops(n, nullptr) {}
  const int size;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<const void*> posted; // this round's contributions, by rank
  std::vector<const char*> ops;    // and the collective each rank called
  int arrived = 0, departed = 0;
  uint64_t arrival_round = 0, departure_round = 0;
  bool failed = false;
  std::string failure; // "rank R failed: why"

  void fail(int rank, const std::string& why) {
    std::lock_guard lock(mu);
    if (!failed) {
      failed = true;
      failure = "rank " + std::to_string(rank) + " failed: " + why;
    }
    cv.notify_all();
  }

  // One rendezvous: posts `contribution`, calls read(posted) once every rank has posted, returns
  // once every rank has read.
  template <class Read>
  void exchange(int rank, const char* op, const void* contribution, Read&& read) {
    std::unique_lock lock(mu);
    if (failed)
      throw GroupFailed(failure);
    posted[rank] = contribution;
    ops[rank] = op;
    const uint64_t round = arrival_round;
    if (++arrived == size) {
      arrived = 0;
      ++arrival_round;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return arrival_round != round || failed; });
      if (arrival_round == round)
        throw GroupFailed(failure); // failed before everyone arrived
    }
    for (int r = 0; r < size; ++r)
      if (std::strcmp(ops[r], op) != 0) {
        const std::string why = "thread communicator: rank " + std::to_string(rank) + " called " +
                                op + " while rank " + std::to_string(r) + " called " + ops[r];
        lock.unlock();
        fail(rank, why);
        throw Error(ErrorCategory::Internal, why);
      }
    lock.unlock();
    // Every rank has arrived, so no slot changes until every rank has departed: read unlocked.
    std::exception_ptr error;
    try {
      read(posted);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    const uint64_t leaving = departure_round;
    if (++departed == size) {
      departed = 0;
      ++departure_round;
      cv.notify_all();
    } else {
      // Every rank is inside this collective, so each departs unless its read threw (bad_alloc);
      // a failure then releases the others.
      cv.wait(lock, [&] { return departure_round != leaving || failed; });
    }
    if (error)
      std::rethrow_exception(error);
  }
};

class ThreadCommunicator final : public Communicator {
public:
  ThreadCommunicator(std::shared_ptr<Group> group, int rank)
      : group_(std::move(group)), rank_(rank) {}
  ~ThreadCommunicator() override {
    // A rank leaving while its peers may call more collectives: they must not wait for it.
    group_->fail(rank_, std::uncaught_exceptions() > 0 ? "its thread left by an exception"
                                                       : "it left the group");
  }
  int rank() const override { return rank_; }
  int size() const override { return group_->size; }
  std::string_view kind() const override { return "thread"; }
  void fail(const std::string& why) { group_->fail(rank_, why); }

  void barrier() override {
    group_->exchange(rank_, "barrier", nullptr, [](const std::vector<const void*>&) {});
  }

  void broadcast(Bytes& bytes, int root) override {
    check_root(*this, root, "broadcast");
    Bytes received;
    group_->exchange(rank_, "broadcast", &bytes, [&](const std::vector<const void*>& posted) {
      if (rank_ != root)
        received = *static_cast<const Bytes*>(posted[root]);
    });
    if (rank_ != root)
      bytes = std::move(received);
  }

  std::vector<Bytes> all_gather(std::span<const uint8_t> bytes) override {
    std::vector<Bytes> out(group_->size);
    group_->exchange(rank_, "all_gather", &bytes, [&](const std::vector<const void*>& posted) {
      for (int r = 0; r < group_->size; ++r) {
        const auto* block = static_cast<const std::span<const uint8_t>*>(posted[r]);
        out[r].assign(block->begin(), block->end());
      }
    });
    return out;
  }

  std::vector<Bytes> all_to_all(const std::vector<Bytes>& blocks) override {
    if (blocks.size() != static_cast<size_t>(group_->size))
      throw Error(ErrorCategory::Usage, "all_to_all: " + std::to_string(blocks.size()) +
                                            " blocks for a group of " +
                                            std::to_string(group_->size) + " ranks");
    std::vector<Bytes> out(group_->size);
    group_->exchange(rank_, "all_to_all", &blocks, [&](const std::vector<const void*>& posted) {
      for (int r = 0; r < group_->size; ++r)
        out[r] = (*static_cast<const std::vector<Bytes>*>(posted[r]))[rank_];
    });
    return out;
  }

  std::vector<Bytes> gather(std::span<const uint8_t> bytes, int root) override {
    check_root(*this, root, "gather");
    std::vector<Bytes> out;
    group_->exchange(rank_, "gather", &bytes, [&](const std::vector<const void*>& posted) {
      if (rank_ != root)
        return;
      out.resize(group_->size);
      for (int r = 0; r < group_->size; ++r) {
        const auto* block = static_cast<const std::span<const uint8_t>*>(posted[r]);
        out[r].assign(block->begin(), block->end());
      }
    });
    return out;
  }

private:
  std::shared_ptr<Group> group_;
  int rank_;
};

constexpr int kMaxThreadRanks = 4096;

} // namespace

std::vector<std::unique_ptr<Communicator>> make_thread_communicators(int size) {
  if (size < 1 || size > kMaxThreadRanks)
    throw Error(ErrorCategory::Usage, "thread communicator: " + std::to_string(size) +
                                          " ranks (1.." + std::to_string(kMaxThreadRanks) + ")");
  auto group = std::make_shared<Group>(size);
  std::vector<std::unique_ptr<Communicator>> out;
  for (int r = 0; r < size; ++r)
    out.push_back(std::make_unique<ThreadCommunicator>(group, r));
  return out;
}

void run_ranks(int ranks, const std::function<void(Communicator&)>& fn) {
  std::vector<std::unique_ptr<Communicator>> comms = make_thread_communicators(ranks);
  std::mutex mu;
  std::exception_ptr cause, consequence; // the first own error, the first "rank R failed"
  auto body = [&](int r) {
    auto& comm = static_cast<ThreadCommunicator&>(*comms[r]);
    try {
      fn(comm);
    } catch (const GroupFailed&) {
      std::lock_guard lock(mu);
      if (!consequence)
        consequence = std::current_exception();
    } catch (const std::exception& e) {
      comm.fail(e.what());
      std::lock_guard lock(mu);
      if (!cause)
        cause = std::current_exception();
    } catch (...) {
      comm.fail("unknown exception");
      std::lock_guard lock(mu);
      if (!cause)
        cause = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(ranks - 1);
  for (int r = 1; r < ranks; ++r)
    threads.emplace_back(body, r);
  body(0);
  for (std::thread& t : threads)
    t.join();
  comms.clear();
  if (cause)
    std::rethrow_exception(cause);
  if (consequence)
    std::rethrow_exception(consequence);
}

// ---- framing ---------------------------------------------------------------------------------

void ByteWriter::u32(uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void ByteWriter::u64(uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void ByteWriter::f64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}
void ByteWriter::bytes(std::span<const uint8_t> b) {
  u64(b.size());
  out_.insert(out_.end(), b.begin(), b.end());
}
void ByteWriter::string(std::string_view s) {
  bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::span<const uint8_t> ByteReader::take(size_t n) {
  if (n > in_.size() - pos_)
    throw Error(ErrorCategory::Parse, what_ + ": truncated at byte " + std::to_string(pos_) + " (" +
                                          std::to_string(n) + " more bytes expected, " +
                                          std::to_string(in_.size() - pos_) + " left)");
  auto s = in_.subspan(pos_, n);
  pos_ += n;
  return s;
}
uint8_t ByteReader::u8() { return take(1)[0]; }
uint32_t ByteReader::u32() {
  auto s = take(4);
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t{s[i]} << (8 * i);
  return v;
}
uint64_t ByteReader::u64() {
  auto s = take(8);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t{s[i]} << (8 * i);
  return v;
}
double ByteReader::f64() {
  const uint64_t bits = u64();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
Bytes ByteReader::bytes() {
  const uint64_t n = u64();
  auto s = take(static_cast<size_t>(std::min<uint64_t>(n, SIZE_MAX)));
  return Bytes(s.begin(), s.end());
}
std::string ByteReader::string() {
  const Bytes b = bytes();
  return std::string(b.begin(), b.end());
}

} // namespace ptvm::comm
