// Tests of the CUDA backend skip when the linked runtime has no device (ptvm::cuda on a machine
// without a GPU); host-sim always has one.
#pragma once
#include <gtest/gtest.h>

#include "ptvm/gpu/runtime.hpp"

#define PTVM_REQUIRE_DEVICE()                                                        \
  do {                                                                               \
    if (!::ptvm::gpu::device_available()) GTEST_SKIP() << "no CUDA device visible"; \
  } while (0)
