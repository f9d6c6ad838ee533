// The whole public API of ptvm.
#pragma once
#include "ptvm/common/error.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/cm31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"
