#pragma once
#define PTVM_VERSION_STRING "0.1.0"
namespace ptvm {
const char* version_string();
}
