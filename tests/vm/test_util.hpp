#pragma once
#include <gtest/gtest.h>

#include <string>

#include "ptvm/common/error.hpp"

// Expects `statement` to throw ptvm::Error of `category` whose message contains `substring`.
#define EXPECT_PTVM_ERROR(statement, category_, substring)                                    \
  do {                                                                                       \
    try {                                                                                    \
      statement;                                                                             \
      ADD_FAILURE() << "expected ptvm::Error containing '" << (substring) << "'";            \
    } catch (const ::ptvm::Error& e) {                                                       \
      EXPECT_EQ(::ptvm::category_name(e.category()), ::ptvm::category_name(category_));      \
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)                    \
          << "message: " << e.what() << "\n expected to contain: " << (substring);           \
    }                                                                                        \
  } while (0)
