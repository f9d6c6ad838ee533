#include "ptvm/version.hpp"

namespace ptvm {
const char* version_string() { return PTVM_VERSION_STRING; }
}  // namespace ptvm
