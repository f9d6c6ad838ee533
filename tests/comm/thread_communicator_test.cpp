// The in-process communicator: every collective with 1, 2 and 4 ranks gives byte-exact blocks
// (sizes differing per rank, empty blocks included), barriers order what ranks do, and a rank that
// throws releases the others with an error instead of leaving them blocked.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "ptvm/comm/communicator.hpp"
#include "ptvm/common/error.hpp"

namespace {

using ptvm::comm::Bytes;
using ptvm::comm::Communicator;
using ptvm::comm::run_ranks;

// Rank r's block for round k: (r + k) % 5 bytes (so some are empty), each a function of r, k, i.
Bytes block(int r, int k, int to = 0) {
  Bytes b;
  const int n = (r + k + to) % 5;
  for (int i = 0; i < n; ++i)
    b.push_back(static_cast<uint8_t>(31 * r + 7 * k + 3 * to + i));
  return b;
}

class ThreadCommunicator : public ::testing::TestWithParam<int> {};

TEST_P(ThreadCommunicator, CollectivesAreByteExact) {
  const int n = GetParam();
  std::atomic<int> checked{0};
  run_ranks(n, [&](Communicator& comm) {
    ASSERT_EQ(comm.size(), n);
    EXPECT_EQ(comm.kind(), "thread");
    const int me = comm.rank();
    for (int k = 0; k < 6; ++k) {
      const Bytes mine = block(me, k);
      const std::vector<Bytes> all = comm.all_gather(mine);
      ASSERT_EQ(all.size(), static_cast<size_t>(n));
      for (int r = 0; r < n; ++r)
        EXPECT_EQ(all[r], block(r, k)) << "all_gather round " << k << " from " << r;

      std::vector<Bytes> out(n);
      for (int to = 0; to < n; ++to)
        out[to] = block(me, k, to);
      const std::vector<Bytes> in = comm.all_to_all(out);
      for (int from = 0; from < n; ++from)
        EXPECT_EQ(in[from], block(from, k, me)) << "all_to_all from " << from;

      const int root = k % n;
      const std::vector<Bytes> gathered = comm.gather(mine, root);
      if (me == root) {
        ASSERT_EQ(gathered.size(), static_cast<size_t>(n));
        for (int r = 0; r < n; ++r)
          EXPECT_EQ(gathered[r], block(r, k));
      } else {
        EXPECT_TRUE(gathered.empty());
      }

      Bytes b = me == root ? block(root, k + 1) : Bytes(7, 0xee);
      comm.broadcast(b, root);
      EXPECT_EQ(b, block(root, k + 1));
    }
    ++checked;
  });
  EXPECT_EQ(checked.load(), n);
}

TEST_P(ThreadCommunicator, BarrierOrdersPhases) {
  const int n = GetParam();
  std::atomic<int> before{0};
  run_ranks(n, [&](Communicator& comm) {
    for (int round = 1; round <= 20; ++round) {
      // Rank-dependent delays: a barrier that let anyone through early would see a short count.
      if ((comm.rank() + round) % 3 == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      ++before;
      comm.barrier();
      EXPECT_EQ(before.load(), round * n) << "rank " << comm.rank() << " round " << round;
      comm.barrier();
    }
  });
}

TEST_P(ThreadCommunicator, FailingRankReleasesTheOthers) {
  const int n = GetParam();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    run_ranks(n, [&](Communicator& comm) {
      comm.barrier();
      if (comm.rank() == n - 1)
        throw ptvm::Error(ptvm::ErrorCategory::Device, "injected failure");
      comm.barrier(); // the failing rank never arrives
      comm.all_gather(Bytes{1, 2, 3});
    });
    FAIL() << "no exception";
  } catch (const ptvm::Error& e) {
    // The cause, not the "rank R failed" errors it caused in the others.
    EXPECT_EQ(e.category(), ptvm::ErrorCategory::Device);
    EXPECT_STREQ(e.what(), "injected failure");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

INSTANTIATE_TEST_SUITE_P(Ranks, ThreadCommunicator, ::testing::Values(1, 2, 4));

TEST(ThreadCommunicatorErrors, PeersSeeWhichRankFailed) {
  std::string seen;
  EXPECT_THROW(run_ranks(2,
                         [&](Communicator& comm) {
                           if (comm.rank() == 1)
                             throw std::runtime_error("boom");
                           try {
                             comm.barrier();
                           } catch (const ptvm::Error& e) {
                             seen = e.what();
                             throw;
                           }
                         }),
               std::runtime_error);
  EXPECT_EQ(seen, "rank 1 failed: boom");
}

TEST(ThreadCommunicatorErrors, MismatchedCollectivesAndBadArguments) {
  try {
    run_ranks(2, [&](Communicator& comm) {
      if (comm.rank() == 0)
        comm.barrier();
      else
        comm.all_gather(Bytes{1});
    });
    FAIL() << "no exception";
  } catch (const ptvm::Error& e) {
    EXPECT_EQ(e.category(), ptvm::ErrorCategory::Internal);
    EXPECT_NE(std::string(e.what()).find("called"), std::string::npos) << e.what();
  }
  run_ranks(2, [&](Communicator& comm) {
    Bytes b;
    EXPECT_THROW(comm.broadcast(b, 2), ptvm::Error);
    EXPECT_THROW(comm.all_to_all(std::vector<Bytes>(3)), ptvm::Error);
    EXPECT_FALSE(comm.device_buffers());
    EXPECT_THROW(comm.all_gather_device(nullptr, nullptr, 0, nullptr), ptvm::Error);
    const std::vector<size_t> zeros(2, 0);
    EXPECT_THROW(comm.all_to_all_v_device(nullptr, zeros, zeros, nullptr, zeros, zeros, nullptr), ptvm::Error);
  });
  EXPECT_THROW(ptvm::comm::make_thread_communicators(0), ptvm::Error);
}

TEST(ByteFraming, RoundTripAndTruncation) {
  ptvm::comm::ByteWriter w;
  w.u8(7);
  w.u32(0xdeadbeef);
  w.u64(uint64_t{1} << 60);
  w.f64(2.5);
  w.string("job 3");
  const Bytes b = w.take();
  ptvm::comm::ByteReader r(b, "test");
  EXPECT_EQ(r.u8(), 7);
  EXPECT_EQ(r.u32(), 0xdeadbeefu);
  EXPECT_EQ(r.u64(), uint64_t{1} << 60);
  EXPECT_EQ(r.f64(), 2.5);
  EXPECT_EQ(r.string(), "job 3");
  EXPECT_TRUE(r.done());
  ptvm::comm::ByteReader short_reader(std::span<const uint8_t>(b.data(), b.size() - 1),
                                      "short block");
  short_reader.u8();
  short_reader.u32();
  short_reader.u64();
  short_reader.f64();
  try {
    short_reader.string();
    FAIL();
  } catch (const ptvm::Error& e) {
    EXPECT_EQ(e.category(), ptvm::ErrorCategory::Parse);
    EXPECT_NE(std::string(e.what()).find("short block"), std::string::npos);
  }
}

} // namespace
