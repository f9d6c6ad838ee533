// The malformed-program corpus: tests/vm/bad/*.tvm. The first line of each file is
// "; expect-error: <parse|runtime>: <substring of the message>"; the message must also name the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"

namespace ptvm::vm {
namespace {

TEST(BadPrograms, CorpusFailsWithTheExpectedMessage) {
  const std::filesystem::path dir = std::filesystem::path(PTVM_VM_TEST_DIR) / "bad";
  std::set<std::string> categories_seen;
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".tvm") continue;
    ++count;
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    const std::string prefix = "; expect-error: ";
    ASSERT_EQ(header.rfind(prefix, 0), 0u) << "missing expect-error header";
    std::string rest = header.substr(prefix.size());
    size_t colon = rest.find(": ");
    ASSERT_NE(colon, std::string::npos);
    const std::string category = rest.substr(0, colon);
    const std::string substring = rest.substr(colon + 2);
    categories_seen.insert(category);
    try {
      Program program = assemble_file(path);
      ASSERT_EQ(category, "runtime") << "assembled, but a parse error was expected";
      RunOptions options;
      options.max_steps = 10000;
      run(program, options);
      ADD_FAILURE() << "ran without error";
    } catch (const Error& e) {
      EXPECT_EQ(category_name(e.category()), category) << e.what();
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)
          << "message: " << e.what() << "\nexpected: " << substring;
      EXPECT_EQ(std::string(e.what()).rfind(path, 0), 0u) << "message must start with the file";
    }
  }
  EXPECT_GE(count, 25u);
  EXPECT_EQ(categories_seen, (std::set<std::string>{"parse", "runtime"}));
}

}  // namespace
}  // namespace ptvm::vm
