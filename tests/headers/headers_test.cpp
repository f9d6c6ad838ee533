// The per-header translation units of this target prove each public header is self-contained;
// this test checks the umbrella header gives a consistent view of the API.
#include <gtest/gtest.h>

#include "ptvm/ptvm.hpp"
#include "ptvm/version.hpp"

TEST(PublicHeaders, UmbrellaAndVersion) {
  EXPECT_STREQ(ptvm::version_string(), PTVM_VERSION_STRING);
  EXPECT_EQ(ptvm::vm::kOpcodeTable.size(), 26u);
  for (size_t i = 0; i < ptvm::vm::kOpcodeTable.size(); ++i)
    EXPECT_EQ(static_cast<size_t>(ptvm::vm::kOpcodeTable[i].op), i) << "opcode table out of order";
}
