// The transformer engine, one instruction at a time against hand-computed results (every opcode,
// ISA.md's flag examples, runtime errors), the state token, soft attention and layer independence.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/transformer.hpp"

namespace ptvm::vm {
namespace {

using Op = Opcode;

Program make_program(std::vector<Instruction> instructions, std::vector<int16_t> memory) {
  Program p;
  p.instructions = std::move(instructions);
  p.initial_memory = std::move(memory);
  p.source_name = "test.tvm";
  return p;
}

std::unique_ptr<Engine> engine_for(const Program& p, AttentionMode mode = {}, int layers = 1) {
  TransformerConfig config;
  config.num_layers = layers;
  return make_transformer_engine(p, mode, config);
}

// Runs `steps` steps and returns the last row.
TraceRow run_steps(Engine& engine, int steps) {
  TraceRow row;
  for (int i = 0; i < steps; ++i)
    row = engine.step();
  return row;
}

void run_to_halt(Engine& engine, uint64_t max_steps = 100000) {
  while (!engine.state().halted && engine.steps_taken() < max_steps)
    engine.step();
}

MachineState make_state(uint8_t pc, int16_t acc, uint8_t sp, bool zero, bool carry,
                        bool halted = false) {
  MachineState s;
  s.pc = pc, s.acc = acc, s.sp = sp, s.zero_flag = zero, s.carry_flag = carry, s.halted = halted;
  return s;
}

TEST(StateToken, LayoutAndRoundTrip) {
  const MachineState s = make_state(0x81, static_cast<int16_t>(0x8003), 0x40, true, false, true);
  const StateToken t = encode_state_token(s);
  EXPECT_EQ(t[0], 1); // pc bit 0
  EXPECT_EQ(t[1], -1);
  EXPECT_EQ(t[7], 1); // pc bit 7
  EXPECT_EQ(t[8], 1); // acc bit 0
  EXPECT_EQ(t[9], 1);
  EXPECT_EQ(t[10], -1);
  EXPECT_EQ(t[23], 1);     // acc bit 15 (negative)
  EXPECT_EQ(t[24 + 6], 1); // sp bit 6
  EXPECT_EQ(t[32], 1);
  EXPECT_EQ(t[33], -1);
  EXPECT_EQ(t[34], 1);
  EXPECT_EQ(t[35], 0);
  EXPECT_EQ(decode_state_token(t), s);

  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t r = rng();
    const MachineState x =
        make_state(static_cast<uint8_t>(r), static_cast<int16_t>(r >> 8),
                   static_cast<uint8_t>(r >> 24), (r >> 32) & 1, (r >> 33) & 1, (r >> 34) & 1);
    const StateToken tok = encode_state_token(x);
    for (int k = 0; k < kTokenPad; ++k)
      ASSERT_TRUE(tok[k] == 1 || tok[k] == -1);
    ASSERT_EQ(decode_state_token(tok), x);
  }
}

TEST(StateToken, MalformedTokensAreRejected) {
  StateToken t = encode_state_token(MachineState{});
  t[5] = 0;
  EXPECT_THROW(decode_state_token(t), Error);
  t = encode_state_token(MachineState{});
  t[35] = 1;
  EXPECT_THROW(decode_state_token(t), Error);
  t = encode_state_token(MachineState{});
  t[20] = 2;
  EXPECT_THROW(decode_state_token(t), Error);
}

// A binary instruction on acc a and operand v, immediate and memory forms.
struct BinaryCase {
  Op immediate_op, memory_op;
  int16_t a, v, expected;
  bool carry;
};

TEST(TransformerEngine, ArithmeticAndBitwiseInstructions) {
  const BinaryCase cases[] = {
      {Op::AddI, Op::AddM, 40, 2, 42, false},
      {Op::AddI, Op::AddM, 32767, 1, -32768, true},
      {Op::AddI, Op::AddM, -32768, -1, 32767, true},
      {Op::AddI, Op::AddM, -5, 5, 0, false},
      {Op::SubI, Op::SubM, 5, 10, -5, false},
      {Op::SubI, Op::SubM, -32768, 1, 32767, true},
      {Op::SubI, Op::SubM, 0, -32768, -32768, true},
      {Op::MulI, Op::MulM, 300, 300, 24464, true},
      {Op::MulI, Op::MulM, -300, 300, -24464, true},
      {Op::MulI, Op::MulM, -7, 6, -42, false},
      {Op::MulI, Op::MulM, 0, -9, 0, false},
      {Op::AndI, Op::AndM, -21846, 4080, 2720, false},
      {Op::OrI, Op::OrM, -21846, 4080, -20486, false},
      {Op::XorI, Op::XorM, -21846, 4080, -23206, false},
      {Op::XorI, Op::XorM, 1234, 1234, 0, false},
      {Op::AndI, Op::AndM, -1, -32768, -32768, false},
      {Op::CmpI, Op::CmpM, 5, 10, -5, true},
      {Op::CmpI, Op::CmpM, 10, 5, 5, false},
      {Op::CmpI, Op::CmpM, 7, 7, 0, false},
      {Op::CmpI, Op::CmpM, -32768, 1, 32767, true}, // wraps; less-than is exact
      {Op::CmpI, Op::CmpM, 32767, -1, -32768, false},
  };
  for (const BinaryCase& c : cases) {
    const std::string name = std::string(opcode_info(c.immediate_op).mnemonic) +
                             " a=" + std::to_string(c.a) + " v=" + std::to_string(c.v);
    // Immediate form: LOADI a; OP v.
    {
      auto e = engine_for(
          make_program({{Op::LoadI, c.a}, {c.immediate_op, c.v}, {Op::Halt, 0}}, {0, 0}));
      const TraceRow row = run_steps(*e, 2);
      EXPECT_EQ(row.after, make_state(2, c.expected, 2, c.expected == 0, c.carry)) << name;
      EXPECT_EQ(row.access.kind, MemoryAccess::Kind::None) << name;
    }
    // Memory form: LOADI a; OPM 1 with MEM[1] = v.
    {
      auto e = engine_for(
          make_program({{Op::LoadI, c.a}, {c.memory_op, 1}, {Op::Halt, 0}}, {0, c.v, 0}));
      const TraceRow row = run_steps(*e, 2);
      EXPECT_EQ(row.after, make_state(2, c.expected, 3, c.expected == 0, c.carry)) << name << " M";
      EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Read, 1, c.v, c.v})) << name;
    }
  }
}

TEST(TransformerEngine, IsaFlagExamples) {
  struct Example {
    Op op;
    int16_t a, v, acc;
    bool carry;
  };
  for (const Example& x :
       {Example{Op::AddI, 32767, 1, -32768, true}, Example{Op::CmpI, 5, 10, -5, true},
        Example{Op::SubI, 5, 10, -5, false}, Example{Op::MulI, 300, 300, 24464, true}}) {
    auto e = engine_for(make_program({{Op::LoadI, x.a}, {x.op, x.v}, {Op::Halt, 0}}, {}));
    run_to_halt(*e);
    EXPECT_EQ(e->steps_taken(), 3u);
    EXPECT_EQ(e->state().acc, x.acc);
    EXPECT_EQ(e->state().carry_flag, x.carry);
    EXPECT_FALSE(e->state().zero_flag);
    EXPECT_EQ(e->state().pc, 2); // HALT leaves pc on itself
    EXPECT_TRUE(e->state().halted);
  }
}

TEST(TransformerEngine, LoadsStoresAndFlagClasses) {
  // LOADI 32767; ADD 1 (carry); NOP; STORE 2; JMP 5; HALT(skipped)... each keeps the carry.
  auto e = engine_for(make_program({{Op::LoadI, 32767},
                                    {Op::AddI, 1},
                                    {Op::Nop, 0},
                                    {Op::Store, 2},
                                    {Op::Jmp, 6},
                                    {Op::Halt, 0},
                                    {Op::Load, 0},
                                    {Op::LoadI, 0},
                                    {Op::Halt, 0}},
                                   {9, 0, 1, 0}));
  EXPECT_EQ(e->state(), make_state(0, 0, 4, true, false));
  run_steps(*e, 2);
  EXPECT_EQ(e->state(), make_state(2, -32768, 4, false, true));
  TraceRow row = e->step(); // NOP
  EXPECT_EQ(row.after, make_state(3, -32768, 4, false, true));
  row = e->step(); // STORE 2
  EXPECT_EQ(row.after, make_state(4, -32768, 4, false, true));
  EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Write, 2, -32768, 1}));
  EXPECT_EQ(e->memory(), (std::vector<int16_t>{9, 0, -32768, 0}));
  row = e->step(); // JMP 6
  EXPECT_EQ(row.after, make_state(6, -32768, 4, false, true));
  row = e->step(); // LOAD 0 clears carry
  EXPECT_EQ(row.after, make_state(7, 9, 4, false, false));
  EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Read, 0, 9, 9}));
  row = e->step(); // LOADI 0 sets zero
  EXPECT_EQ(row.after, make_state(8, 0, 4, true, false));
  row = e->step(); // HALT
  EXPECT_EQ(row.after, make_state(8, 0, 4, true, false, true));
  EXPECT_EQ(row.step, 8u);
  EXPECT_EQ(row.pc, 8);
  EXPECT_EQ(row.instruction, (Instruction{Op::Halt, 0}));
  EXPECT_THROW(e->step(), Error); // stepping a halted machine
}

TEST(TransformerEngine, StackCallAndReturn) {
  // 0 LOADI -3; 1 PUSH; 2 LOADI 8; 3 CALL 7; 4 POP; 5 HALT; 6 NOP; 7 ADD 1; 8 RET
  auto e = engine_for(make_program({{Op::LoadI, -3},
                                    {Op::Push, 0},
                                    {Op::LoadI, 8},
                                    {Op::Call, 7},
                                    {Op::Pop, 0},
                                    {Op::Halt, 0},
                                    {Op::Nop, 0},
                                    {Op::AddI, 1},
                                    {Op::Ret, 0}},
                                   {0, 0, 0, 0, 0}));
  run_steps(*e, 1);
  TraceRow row = e->step(); // PUSH
  EXPECT_EQ(row.after, make_state(2, -3, 4, false, false));
  EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Write, 4, -3, 0}));
  run_steps(*e, 1);
  row = e->step(); // CALL 7 writes p1 = 4 at sp-1 = 3
  EXPECT_EQ(row.after, make_state(7, 8, 3, false, false));
  EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Write, 3, 4, 0}));
  row = e->step(); // ADD 1
  EXPECT_EQ(row.after, make_state(8, 9, 3, false, false));
  row = e->step(); // RET reads MEM[3] = 4
  EXPECT_EQ(row.after, make_state(4, 9, 4, false, false));
  EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Read, 3, 4, 4}));
  row = e->step(); // POP reads MEM[4] = -3, clears carry, sets zero from acc
  EXPECT_EQ(row.after, make_state(5, -3, 5, false, false));
  EXPECT_EQ(row.access, (MemoryAccess{MemoryAccess::Kind::Read, 4, -3, -3}));
  row = e->step();
  EXPECT_TRUE(row.after.halted);
  EXPECT_EQ(e->memory(), (std::vector<int16_t>{0, 0, 0, 4, -3}));
}

TEST(TransformerEngine, ConditionalJumps) {
  // JZ/JNZ taken and not taken, from zero = true (initial) and zero = false.
  struct Case {
    Op op;
    bool zero;
    uint8_t expected_pc;
  };
  for (const Case c : {Case{Op::Jz, true, 9}, Case{Op::Jz, false, 2}, Case{Op::Jnz, true, 2},
                       Case{Op::Jnz, false, 9}}) {
    auto e = engine_for(make_program({{Op::LoadI, c.zero ? 0 : 1}, {c.op, 9}}, {}));
    const TraceRow row = run_steps(*e, 2);
    EXPECT_EQ(row.after, make_state(c.expected_pc, c.zero ? 0 : 1, 0, c.zero, false))
        << opcode_info(c.op).mnemonic << " zero=" << c.zero;
  }
  // JZ 0 and JNZ 0 (target 0 makes the t*zero term vanish) and pc 255 wrapping p1 to 0.
  std::vector<Instruction> wide(256, Instruction{Op::Nop, 0});
  wide[0] = {Op::Jmp, 254};
  wide[254] = {Op::Jz, 0}; // zero is true: taken
  wide[255] = {Op::Halt, 0};
  auto e = engine_for(make_program(wide, {}));
  EXPECT_EQ(run_steps(*e, 2).after.pc, 0);
  wide[254] = {Op::Jnz, 0}; // zero true: falls through to 255
  wide[255] = {Op::Nop, 0}; // p1 = (255 + 1) mod 256 = 0
  auto f = engine_for(make_program(wide, {}));
  EXPECT_EQ(run_steps(*f, 2).after.pc, 255);
  EXPECT_EQ(f->step().after.pc, 0);
}

void expect_runtime_error(const Program& p, int steps_before, const std::string& fragment) {
  auto e = engine_for(p);
  run_steps(*e, steps_before);
  try {
    e->step();
    FAIL() << "expected a runtime error containing '" << fragment << "'";
  } catch (const Error& err) {
    EXPECT_EQ(err.category(), ErrorCategory::Runtime);
    const std::string what = err.what();
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_NE(what.find("step " + std::to_string(steps_before + 1)), std::string::npos) << what;
    EXPECT_NE(what.find("test.tvm"), std::string::npos) << what;
  }
}

TEST(TransformerEngine, RuntimeErrors) {
  expect_runtime_error(make_program({{Op::Nop, 0}}, {}), 1, "pc 1 outside the program");
  expect_runtime_error(make_program({{Op::Jmp, 200}}, {}), 1, "pc 200 outside the program");
  expect_runtime_error(make_program({{Op::Load, 4}}, {0, 0, 0, 0}), 0, "memory address 4");
  expect_runtime_error(make_program({{Op::AddM, 9}}, {0}), 0, "memory address 9");
  expect_runtime_error(make_program({{Op::Store, 1}}, {0}), 0, "memory address 1");
  expect_runtime_error(make_program({{Op::Push, 0}}, {}), 0, "stack overflow");
  expect_runtime_error(make_program({{Op::Push, 0}, {Op::Push, 0}}, {0}), 1, "stack overflow");
  expect_runtime_error(make_program({{Op::Call, 0}}, {}), 0, "stack overflow");
  expect_runtime_error(make_program({{Op::Pop, 0}}, {0, 0}), 0, "stack underflow");
  expect_runtime_error(make_program({{Op::Ret, 0}}, {0}), 0, "stack underflow");
  expect_runtime_error(make_program({{Op::LoadI, 300}, {Op::Push, 0}, {Op::Ret, 0}}, {0, 0}), 2,
                       "RET to 300");
  expect_runtime_error(make_program({{Op::LoadI, -1}, {Op::Push, 0}, {Op::Ret, 0}}, {0, 0}), 2,
                       "RET to -1");
  // The failed step changes nothing.
  auto e = engine_for(make_program({{Op::LoadI, 5}, {Op::Store, 3}}, {1}));
  e->step();
  EXPECT_THROW(e->step(), Error);
  EXPECT_EQ(e->steps_taken(), 1u);
  EXPECT_EQ(e->state(), make_state(1, 5, 1, false, false));
  EXPECT_EQ(e->memory(), std::vector<int16_t>{1});
}

Program fibonacci() {
  return make_program({{Op::Load, 3},
                       {Op::SubM, 4},
                       {Op::Jz, 14},
                       {Op::Load, 0},
                       {Op::AddM, 1},
                       {Op::Store, 2},
                       {Op::Load, 1},
                       {Op::Store, 0},
                       {Op::Load, 2},
                       {Op::Store, 1},
                       {Op::Load, 3},
                       {Op::AddI, 1},
                       {Op::Store, 3},
                       {Op::Jmp, 0},
                       {Op::Load, 1},
                       {Op::Halt, 0}},
                      {0, 1, 0, 0, 7});
}

Program factorial_recursive() {
  return make_program({{Op::LoadI, 5},
                       {Op::Call, 3},
                       {Op::Halt, 0},
                       {Op::Jz, 11},
                       {Op::Push, 0},
                       {Op::SubI, 1},
                       {Op::Call, 3},
                       {Op::Store, 0},
                       {Op::Pop, 0},
                       {Op::MulM, 0},
                       {Op::Ret, 0},
                       {Op::LoadI, 1},
                       {Op::Ret, 0}},
                      std::vector<int16_t>(11, 0));
}

TEST(TransformerEngine, KnownProgramsAndLayerIndependence) {
  for (int layers : {1, 2, 3, 7, 16, 40}) {
    auto fib = engine_for(fibonacci(), {}, layers);
    run_to_halt(*fib);
    EXPECT_EQ(fib->steps_taken(), 103u) << layers;
    EXPECT_EQ(fib->state(), make_state(15, 21, 5, false, false, true)) << layers;
    EXPECT_EQ(fib->memory(), (std::vector<int16_t>{13, 21, 21, 7, 7})) << layers;

    auto fact = engine_for(factorial_recursive(), {}, layers);
    run_to_halt(*fact);
    EXPECT_EQ(fact->steps_taken(), 46u) << layers;
    EXPECT_EQ(fact->state(), make_state(2, 120, 11, false, false, true)) << layers;
    EXPECT_EQ(fact->memory(), (std::vector<int16_t>{24, 1, 7, 2, 7, 3, 7, 4, 7, 5, 2})) << layers;
  }
  // Every trace row is identical across layer counts, not only the end state.
  std::vector<std::vector<TraceRow>> traces;
  for (int layers : {1, 2, 3, 7}) {
    auto e = engine_for(factorial_recursive(), {}, layers);
    std::vector<TraceRow> rows;
    while (!e->state().halted)
      rows.push_back(e->step());
    traces.push_back(rows);
  }
  for (size_t t = 1; t < traces.size(); ++t) {
    ASSERT_EQ(traces[t].size(), traces[0].size());
    for (size_t i = 0; i < traces[0].size(); ++i) {
      EXPECT_EQ(traces[t][i].after, traces[0][i].after);
      EXPECT_EQ(traces[t][i].access, traces[0][i].access);
    }
  }
}

// ISA.md: `.memory 1; LOADI 0; STORE 0; LOADI 10; STORE 0; LOAD 0; HALT` -> 10 / 9 / 4.
TEST(TransformerEngine, SoftAttentionModes) {
  const Program p = make_program({{Op::LoadI, 0},
                                  {Op::Store, 0},
                                  {Op::LoadI, 10},
                                  {Op::Store, 0},
                                  {Op::Load, 0},
                                  {Op::Halt, 0}},
                                 {0});
  const AttentionMode modes[] = {{AttentionMode::Kind::AverageHard, 1.0},
                                 {AttentionMode::Kind::Softmax, 1.0},
                                 {AttentionMode::Kind::HardSoftmax, 10.0}};
  const int16_t expected[] = {10, 9, 4};
  for (int m = 0; m < 3; ++m) {
    for (int layers : {1, 2, 7}) {
      auto e = engine_for(p, modes[m], layers);
      run_to_halt(*e);
      EXPECT_EQ(e->steps_taken(), 6u);
      EXPECT_EQ(e->state().acc, expected[m]) << "mode " << m;
      EXPECT_EQ(e->memory(), std::vector<int16_t>{10}); // memory() is the hard read
    }
  }
}

TEST(TransformerEngine, RejectsBadConfigAndPrograms) {
  const Program ok = make_program({{Op::Halt, 0}}, {});
  TransformerConfig c;
  c.d_model = 32;
  EXPECT_THROW(make_transformer_engine(ok, {}, c), Error);
  c = {};
  c.num_heads = 9;
  EXPECT_THROW(make_transformer_engine(ok, {}, c), Error);
  c = {};
  c.num_layers = 0;
  EXPECT_THROW(make_transformer_engine(ok, {}, c), Error);
  c = {};
  c.ff_dim = 49; // OR needs 50
  EXPECT_NO_THROW(make_transformer_engine(ok, {}, c));
  EXPECT_THROW(make_transformer_engine(make_program({{Op::OrI, 1}}, {}), {}, c), Error);
  c.ff_dim = 50;
  EXPECT_NO_THROW(make_transformer_engine(make_program({{Op::OrI, 1}}, {}), {}, c));
  EXPECT_THROW(engine_for(ok, AttentionMode{AttentionMode::Kind::Softmax, 2.0}), Error);
  EXPECT_THROW(engine_for(ok, AttentionMode{AttentionMode::Kind::HardSoftmax, 0.0}), Error);
  EXPECT_THROW(engine_for(ok, AttentionMode{AttentionMode::Kind::HardSoftmax, -1.0}), Error);
  EXPECT_NO_THROW(engine_for(ok, AttentionMode{AttentionMode::Kind::HardSoftmax, 0.25}));
  EXPECT_THROW(engine_for(make_program({{Op::LoadI, 40000}}, {})), Error);
  EXPECT_THROW(engine_for(make_program({{Op::Load, 256}}, {})), Error);
  EXPECT_THROW(engine_for(make_program({{Op::Jmp, -1}}, {})), Error);
  EXPECT_THROW(engine_for(make_program({{Op::Halt, 3}}, {})), Error);
  EXPECT_THROW(engine_for(make_program({{static_cast<Op>(26), 0}}, {})), Error);
  EXPECT_THROW(engine_for(make_program(std::vector<Instruction>(257), {})), Error);
  EXPECT_THROW(engine_for(make_program({}, std::vector<int16_t>(256))), Error);
  try {
    engine_for(make_program({{Op::Nop, 0}, {Op::AddI, 99999}}, {}));
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Usage);
    EXPECT_NE(std::string(e.what()).find("test.tvm: instruction 1"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace ptvm::vm
