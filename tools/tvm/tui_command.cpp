// tvm tui PROGRAM [--engine transformer|native] [--max-steps N] [--layers N]
//
// An interactive terminal view of one run: the listing with the current instruction highlighted,
// the state token (registers, flags, the FFN input x), the step's attention read, every memory
// cell with its write history, and the last trace rows. The run is recorded once per engine
// (TuiModel, tui_model.hpp); keys move through it. This file only draws and reads keys (ncurses).
#include <curses.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"
#include "tui_model.hpp"

namespace tvm_cli {
namespace {

using ptvm::Error;
using ptvm::ErrorCategory;

struct TuiArguments {
  std::string program;
  std::string engine = "transformer";
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  int64_t layers = 1;
};

constexpr const char* kHelpLine = "n step  p back  c run to breakpoint  b breakpoint (or Nb)  "
                                  "Up/Down cursor  e engine  g/G first/last  "
                                  "[/] memory  q quit";
constexpr int kMinWidth = 60, kMinHeight = 16;
constexpr short kBreakpointColor = 1;

// The terminal for the lifetime of the view; endwin() on every way out, exceptions included.
class CursesScreen {
public:
  CursesScreen() {
    if (!::isatty(STDIN_FILENO))
      throw Error(ErrorCategory::Usage, "tvm tui needs a terminal (stdin is not a TTY)");
    if (!::isatty(STDOUT_FILENO))
      throw Error(ErrorCategory::Usage, "tvm tui needs a terminal (stdout is not a TTY)");
    // newterm, not initscr: initscr exits the process when the terminal is unknown.
    screen_ = newterm(nullptr, stdout, stdin);
    if (!screen_) {
      const char* term = std::getenv("TERM");
      throw Error(ErrorCategory::Io, std::string("tvm tui cannot drive this terminal (TERM=") +
                                         (term ? term : "unset") + ")");
    }
    set_term(screen_);
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
      start_color();
      use_default_colors();
      init_pair(kBreakpointColor, COLOR_RED, -1);
    }
  }
  ~CursesScreen() {
    endwin();
    delscreen(screen_);
  }
  CursesScreen(const CursesScreen&) = delete;
  CursesScreen& operator=(const CursesScreen&) = delete;

private:
  SCREEN* screen_ = nullptr;
};

void put(int y, int x, const std::string& text, int width, attr_t attributes = A_NORMAL) {
  if (width <= 0 || y < 0 || y >= LINES)
    return;
  attron(attributes);
  mvaddnstr(y, x, text.c_str(), width);
  attroff(attributes);
}

// The first row to show so that `focus` is visible, centred where possible.
size_t scroll_top(size_t focus, size_t count, size_t rows) {
  if (count <= rows)
    return 0;
  const size_t half = rows / 2;
  return std::min(focus > half ? focus - half : 0, count - rows);
}

class TuiView {
public:
  explicit TuiView(TuiModel& model) : model_(model), cursor_(model.state().pc) {
    if (model_.end_reason() == TuiStop::RuntimeError)
      message_ = "the run ends with a runtime error (G goes there): " + model_.run().error;
  }

  void loop() {
    for (;;) {
      draw();
      const int key = getch();
      if (key == 'q' || key == 'Q')
        return;
      if (key == ERR)
        return; // the terminal is gone (a blocking getch fails only then)
      try {
        handle(key);
      } catch (const Error& e) {
        message_ = std::string("error: ") + e.what();
      }
    }
  }

private:
  // The pending count typed before a key (Nn, Nb, Ng), consumed by the key.
  std::optional<uint64_t> take_count() {
    if (digits_.empty())
      return std::nullopt;
    const uint64_t value = std::stoull(digits_);
    digits_.clear();
    return value;
  }

  void follow_pc() { cursor_ = model_.state().pc; }

  void handle(int key) {
    if (key >= '0' && key <= '9') {
      if (digits_.size() < 12)
        digits_ += static_cast<char>(key);
      message_.clear();
      return;
    }
    if (key == KEY_RESIZE)
      return;
    const std::optional<uint64_t> count = take_count();
    message_.clear();
    const size_t instructions = model_.program().instructions.size();
    switch (key) {
    case 'n':
    case 's':
    case ' ':
    case KEY_RIGHT:
      if (model_.step_forward(count.value_or(1)) == 0)
        message_ = "at the end: " + model_.end_text();
      follow_pc();
      break;
    case 'p':
    case KEY_LEFT:
    case KEY_BACKSPACE:
      if (model_.step_back(count.value_or(1)) == 0)
        message_ = "at step 0 (the initial state)";
      follow_pc();
      break;
    case 'c':
    case 'r': {
      const TuiStop stop = model_.run_to_breakpoint();
      message_ = stop == TuiStop::Breakpoint
                     ? "breakpoint at pc " + std::to_string(model_.state().pc) + " (step " +
                           std::to_string(model_.step()) + ")"
                     : model_.end_text();
      follow_pc();
      break;
    }
    case 'b': {
      const uint64_t pc = count.value_or(cursor_); // the model refuses a pc outside the program
      const bool set =
          model_.toggle_breakpoint(static_cast<uint32_t>(std::min<uint64_t>(pc, UINT32_MAX)));
      message_ = std::string(set ? "breakpoint set at pc " : "breakpoint cleared at pc ") +
                 std::to_string(pc);
      cursor_ = static_cast<size_t>(pc);
      break;
    }
    case KEY_UP:
    case 'k':
      if (cursor_ > 0)
        --cursor_;
      break;
    case KEY_DOWN:
    case 'j':
      if (cursor_ + 1 < instructions)
        ++cursor_;
      break;
    case 'e': {
      message_ = "recomputing the run...";
      draw();
      model_.switch_engine();
      message_ = std::string("recomputed with the ") + ptvm::vm::engine_name(model_.engine()) +
                 " engine (" + std::to_string(model_.last_step()) + " steps); at step " +
                 std::to_string(model_.step());
      follow_pc();
      break;
    }
    case 'g':
      model_.go_to(count.value_or(0));
      follow_pc();
      break;
    case 'G':
      model_.go_to(count.value_or(model_.last_step()));
      follow_pc();
      break;
    case '[':
    case KEY_PPAGE:
      memory_top_ = memory_top_ > 4 ? memory_top_ - 4 : 0;
      break;
    case ']':
    case KEY_NPAGE:
      memory_top_ += 4;
      break;
    case 27:
      break; // Esc: drops the pending count
    default:
      message_ = "unknown key (q quits)";
      break;
    }
  }

  void draw() {
    erase();
    const int width = COLS, height = LINES;
    if (width < kMinWidth || height < kMinHeight) {
      put(0, 0,
          "tvm tui needs at least " + std::to_string(kMinWidth) + "x" + std::to_string(kMinHeight) +
              " (now " + std::to_string(width) + "x" + std::to_string(height) + "); q quits",
          width);
      refresh();
      return;
    }
    put(0, 0, std::string(static_cast<size_t>(width), ' '), width, A_REVERSE);
    put(0, 1, model_.title_line(), width - 2, A_REVERSE);
    const int body_top = 1, body_bottom = height - 3; // rows body_top..body_bottom
    const int left_width = std::min(32, width / 3);
    for (int y = body_top; y <= body_bottom; ++y)
      mvaddch(y, left_width, '|'); // plain ASCII: no line-drawing set needed
    draw_listing(body_top, body_bottom, left_width - 1);
    draw_panels(body_top, body_bottom, left_width + 2, width - left_width - 3);
    const std::string pending = digits_.empty() ? "" : "count: " + digits_ + "  ";
    put(height - 2, 1, pending + message_, width - 2, A_BOLD);
    put(height - 1, 0, kHelpLine, width, A_REVERSE);
    refresh();
  }

  void draw_listing(int top, int bottom, int width) {
    put(top, 1,
        "Program (" + std::to_string(model_.program().instructions.size()) + " instructions)",
        width, A_BOLD);
    const std::vector<ListingLine> lines = model_.listing_lines();
    const size_t rows = static_cast<size_t>(bottom - top);
    // The cursor is the current pc unless moved, so this keeps the one in use visible.
    const size_t focus = std::min<size_t>(cursor_, lines.empty() ? 0 : lines.size() - 1);
    const size_t first = scroll_top(focus, lines.size(), rows);
    for (size_t i = first; i < lines.size() && i - first < rows; ++i) {
      attr_t attributes = A_NORMAL;
      if (lines[i].current)
        attributes |= A_REVERSE;
      if (i == cursor_)
        attributes |= A_UNDERLINE;
      if (lines[i].breakpoint)
        attributes |= has_colors() ? COLOR_PAIR(kBreakpointColor) | A_BOLD : A_BOLD;
      const std::string text =
          lines[i].text + std::string(static_cast<size_t>(std::max(0, width - 1)), ' ');
      put(top + 1 + static_cast<int>(i - first), 1, text, width - 1, attributes);
    }
  }

  void draw_panels(int top, int bottom, int x, int width) {
    int y = top;
    const std::string at = " at step " + std::to_string(model_.step());
    auto section = [&](const std::string& title, const std::vector<std::string>& lines,
                       size_t max_lines) {
      if (y > bottom)
        return;
      put(y++, x, title, width, A_BOLD);
      for (size_t i = 0; i < lines.size() && i < max_lines && y <= bottom; ++i)
        put(y++, x, lines[i], width);
      ++y;
    };
    section("State token" + at, model_.state_lines(), 8);
    section("Attention read" + at, model_.attention_lines(), 3);
    // Memory takes what it needs up to half of what is left; the trace takes the rest.
    const std::vector<std::string> memory = model_.memory_lines(static_cast<size_t>(width));
    const int left = bottom - y + 1;
    const size_t memory_rows =
        std::min<size_t>(memory.size(), static_cast<size_t>(std::max(1, (left - 2) / 2)));
    memory_top_ = std::min(memory_top_, memory.size() - memory_rows);
    const std::string range = memory_rows < memory.size()
                                  ? " (cells " + std::to_string(memory_top_) + ".." +
                                        std::to_string(memory_top_ + memory_rows - 1) + " of " +
                                        std::to_string(memory.size()) + ")"
                                  : "";
    section("Memory" + at + ": value, writes step:value" + range,
            std::vector<std::string>(memory.begin() + static_cast<std::ptrdiff_t>(memory_top_),
                                     memory.end()),
            memory_rows);
    const int trace_rows = bottom - y; // below the section title
    if (trace_rows > 0)
      section("Trace (last steps)", model_.trace_lines(static_cast<size_t>(trace_rows)),
              trace_rows);
  }

  TuiModel& model_;
  size_t cursor_; // the listing line `b` acts on; follows the pc after every move
  size_t memory_top_ = 0;
  std::string digits_;
  std::string message_ = "n steps, c runs to a breakpoint, q quits";
};

} // namespace

Action add_tui_command(CLI::App& app) {
  auto args = std::make_shared<TuiArguments>();
  CLI::App* cmd =
      app.add_subcommand("tui", "Step through a run in an interactive terminal view (ncurses)");
  cmd->add_option("program", args->program, "the .tvm program")->required()->type_name("PROGRAM");
  cmd->add_option("--engine", args->engine, "transformer (default) or native; key e switches")
      ->type_name("NAME");
  cmd->add_option("--max-steps", args->max_steps, "record at most this many steps (default 512)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--layers", args->layers, "transformer layers, 1..256 (default 1)")
      ->type_name("N");
  cmd->footer("The run is recorded once per engine; every key moves through that record.\n"
              "Keys: n/Right step, p/Left step back, c run to the next breakpoint (or the end), b "
              "toggle a\n"
              "breakpoint on the cursor's pc (Up/Down move it; 12b toggles pc 12), e switch engine "
              "(the run\n"
              "is recomputed, the step kept), g/G first/last step (40g: step 40), [/] scroll "
              "memory, q quit.\n"
              "A count before n or p repeats it (10n).\n"
              "Examples:\n"
              "  tvm tui programs/fibonacci.tvm\n"
              "  tvm tui programs/stack_calls.tvm --engine native --max-steps 2000\n"
              "Exit codes: 0 quit, 1 input error (the program) or an unusable terminal, 2 usage "
              "(bad command\n"
              "line, or stdin/stdout not a terminal).");
  return [cmd, args]() -> int {
    if (!cmd->parsed())
      return -1;
    check_layers(args->layers);
    const ptvm::vm::EngineKind engine = ptvm::vm::parse_engine_kind(args->engine);
    TuiSettings settings;
    settings.max_steps = args->max_steps;
    settings.layers = static_cast<int>(args->layers);
    ptvm::vm::Program program = ptvm::vm::assemble_file(args->program);
    // The program's errors come first, then the terminal check, before the run is recorded.
    CursesScreen screen;
    TuiModel model(std::move(program), args->program, engine, settings);
    TuiView view(model);
    view.loop();
    return 0;
  };
}

} // namespace tvm_cli
