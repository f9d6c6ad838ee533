#!/usr/bin/env node
// The ONNX check: runs the models that `tvm export-onnx` writes with ONNX Runtime (onnxruntime-node),
// one step at a time, and compares every step with the native interpreter's trace
// (`tvm run PROGRAM --trace --json --engine native --max-steps N`).
//
// Everything outside the FFN is done here, written from ../../../shared/ISA.md ("Machine state",
// "Instructions", "Memory reads are attention", "The compiled transformer") and the per-block facts
// of metadata.json, not from ptvm's C++ engines: the stack checks, the operand (the immediate, or
// the attention read of a cell's latest write), the flags by the block's rule, the halt bit, the
// write when y[3] >= 0.5, and the runtime errors. Each step runs two models: the state encoding
// (registers and operand -> x[41]; also checked against this file's own encoding of ISA.md's
// layout) and the block of the current pc (x -> y[6]).
//
//   node tools/onnx_check/check.mjs PROGRAM [--tvm TVM] [--max-steps N] [--layers N]
//                                   [--model-dir DIR] [--trace FILE] [--quiet]
//   node tools/onnx_check/check.mjs --install-only
//
// --model-dir: an existing export (else PROGRAM is exported to a temporary folder with TVM);
// --trace: an existing `tvm run --trace --json --engine native` output (else TVM runs PROGRAM);
// with both, PROGRAM is not needed. --max-steps defaults to 512, as for `tvm run`.
// Environment: PTVM_TVM (default build/tools/tvm/tvm), PTVM_ONNX_CACHE (where onnxruntime-node
// is installed, default build/onnx_check), PTVM_NPM (default npm).
// Exit codes: 0 every step agrees, 1 the first difference (step and field named), 2 usage or
// another error, 77 onnxruntime-node cannot be installed or loaded.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXIT_AGREED = 0;
const EXIT_DIVERGED = 1;
const EXIT_ERROR = 2;
const EXIT_UNAVAILABLE = 77;

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

class Failure extends Error {
  constructor(exitCode, message) {
    super(message);
    this.exitCode = exitCode;
  }
}
const usage = (message) => new Failure(EXIT_ERROR, message);
const unavailable = (message) => new Failure(EXIT_UNAVAILABLE, message);

function parseArguments(argv) {
  const options = {
    program: null,
    tvm: process.env.PTVM_TVM || path.join(repoRoot, 'build', 'tools', 'tvm', 'tvm'),
    maxSteps: 512,
    layers: 1,
    modelDir: null,
    trace: null,
    installOnly: false,
    quiet: false,
  };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw usage(`${flag} needs a value`);
    return argv[i + 1];
  };
  const count = (text, flag, low, high) => {
    if (!/^[0-9]+$/.test(text) || Number(text) < low || Number(text) > high)
      throw usage(`${flag} must be an integer in ${low}..${high} (got '${text}')`);
    return Number(text);
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--tvm') options.tvm = value(i++, a);
    else if (a === '--max-steps') options.maxSteps = count(value(i++, a), a, 0, Number.MAX_SAFE_INTEGER);
    else if (a === '--layers') options.layers = count(value(i++, a), a, 1, 256);
    else if (a === '--model-dir') options.modelDir = value(i++, a);
    else if (a === '--trace') options.trace = value(i++, a);
    else if (a === '--install-only') options.installOnly = true;
    else if (a === '--quiet') options.quiet = true;
    else if (a === '-h' || a === '--help') {
      const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
      console.log(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else if (a.startsWith('-')) throw usage(`unknown option '${a}' (--help lists them)`);
    else if (options.program === null) options.program = a;
    else throw usage(`more than one program given ('${options.program}', '${a}')`);
  }
  if (!options.installOnly && options.program === null && (options.modelDir === null || options.trace === null))
    throw usage('a PROGRAM is needed unless both --model-dir and --trace are given (--help)');
  return options;
}

// ---- onnxruntime-node, installed with npm into the cache folder --------------------------------

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// npm ci from this folder's package.json and package-lock.json (the pinned version), without install
// scripts: the CPU runtime is in the package; its install script only fetches optional CUDA
// binaries from GitHub. A stamp (the lock file's hash) says an install is complete and current;
// a lock folder keeps concurrent runs from installing over each other.
function loadRuntime(quiet) {
  const cache = path.resolve(process.env.PTVM_ONNX_CACHE || path.join(repoRoot, 'build', 'onnx_check'));
  const lockText = fs.readFileSync(path.join(here, 'package-lock.json'));
  const wanted = createHash('sha256').update(lockText).digest('hex');
  const stampFile = path.join(cache, '.ptvm-install-stamp');
  const current = () => fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8').trim() === wanted;
  if (!current()) {
    fs.mkdirSync(cache, { recursive: true });
    const lock = path.join(cache, '.ptvm-install-lock');
    const deadline = Date.now() + 15 * 60 * 1000;
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
        let age = 0;
        try {
          age = Date.now() - fs.statSync(lock).mtimeMs;
        } catch {
          continue;
        }
        if (age > 15 * 60 * 1000) fs.rmSync(lock, { recursive: true, force: true }); // stale
        else if (Date.now() > deadline) throw unavailable(`${lock} is held by another install for too long`);
        else sleep(500);
      }
    }
    try {
      if (!current()) {
        for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(here, f), path.join(cache, f));
        const npm = process.env.PTVM_NPM || 'npm';
        if (!quiet) process.stderr.write(`onnx check: installing onnxruntime-node with ${npm} into ${cache}\n`);
        const r = spawnSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
          cwd: cache,
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (r.error)
          throw unavailable(`onnxruntime-node is not installed and '${npm}' cannot run (${r.error.code || r.error.message}); ` +
            'install Node.js with npm (apt-get install nodejs npm) or set PTVM_ONNX_CACHE to a folder holding it');
        if (r.status !== 0) {
          // npm's first lines say why (code, errno, the request); the rest is detail.
          const head = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(0, 4).join('\n  ') || '(no output)';
          throw unavailable(`onnxruntime-node could not be installed: '${npm} ci' in ${cache} exited with ${r.status}:\n  ${head}`);
        }
        fs.writeFileSync(stampFile, `${wanted}\n`);
      }
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  try {
    const require = createRequire(path.join(cache, 'package.json'));
    return { ort: require('onnxruntime-node'), version: require('onnxruntime-node/package.json').version, cache };
  } catch (e) {
    throw unavailable(`onnxruntime-node is installed in ${cache} but cannot be loaded: ${e.message.split('\n')[0]}`);
  }
}

// ---- the inputs: the export and the native trace -----------------------------------------------

function spawnTvm(tvm, args) {
  const r = spawnSync(tvm, args, { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  if (r.error) throw usage(`cannot run ${tvm} (${r.error.code || r.error.message}); build it or pass --tvm`);
  return r;
}

function runTvm(tvm, args, what) {
  const r = spawnTvm(tvm, args);
  if (r.status !== 0) throw usage(`${what} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

function readJson(file, what) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw usage(`${file}: cannot read ${what}: ${e.message}`);
  }
}

// The layout of x, ISA.md "The compiled transformer": [1, pc, p1, acc, zero, carry, halted, sp,
// operand, acc bits 0..15, operand bits 0..15].
const INPUT_LAYOUT = ['one', 'pc', 'next_pc', 'acc', 'zero_flag', 'carry_flag', 'halted', 'sp', 'operand',
  ...Array.from({ length: 16 }, (_, k) => `acc_bit_${k}`), ...Array.from({ length: 16 }, (_, k) => `operand_bit_${k}`)];
const OUTPUT_LAYOUT = ['next_pc', 'raw_acc', 'next_sp', 'write_enable', 'write_address', 'write_value'];
const STATE_FIELDS = ['pc', 'acc', 'sp', 'zero_flag', 'carry_flag', 'halted'];

function checkMetadata(meta, dir) {
  if (meta.format !== 'ptvm-onnx-export' || meta.format_version !== 1)
    throw usage(`${dir}/metadata.json: not a ptvm ONNX export (format ${meta.format}, version ${meta.format_version})`);
  if (JSON.stringify(meta.input_layout) !== JSON.stringify(INPUT_LAYOUT))
    throw usage(`${dir}/metadata.json: input_layout differs from ISA.md's x layout`);
  if (JSON.stringify(meta.output_layout) !== JSON.stringify(OUTPUT_LAYOUT))
    throw usage(`${dir}/metadata.json: output_layout differs from ISA.md's y layout`);
  if (meta.blocks.length !== meta.num_instructions || meta.blocks.some((b, pc) => b.pc !== pc))
    throw usage(`${dir}/metadata.json: blocks must list every pc in order`);
  if (meta.initial_memory.length !== meta.memory_size) throw usage(`${dir}/metadata.json: initial_memory size`);
}

// ---- stepping ------------------------------------------------------------------------------------

const wrap16 = (v) => ((((v + 32768) % 65536) + 65536) % 65536) - 32768;
const u16 = (v) => ((v % 65536) + 65536) % 65536;

function encodeIsa(s, operand) {
  const x = [1, s.pc, (s.pc + 1) % 256, s.acc, +s.zero_flag, +s.carry_flag, +s.halted, s.sp, operand];
  for (let k = 0; k < 16; ++k) x.push(Math.floor(u16(s.acc) / 2 ** k) % 2);
  for (let k = 0; k < 16; ++k) x.push(Math.floor(u16(operand) / 2 ** k) % 2);
  return x;
}

// The ONNX side of a run: the registers and the memory (outside the FFN), one step() per
// instruction with the two models.
class OnnxMachine {
  constructor(ort, meta, encoder, blocks) {
    this.ort = ort;
    this.meta = meta;
    this.encoder = encoder;
    this.blocks = blocks;
    this.state = { ...meta.initial_state };
    // A cell's keys are (step of the write, value); a read is hard attention with query (1, 0): the
    // key with the largest step, its latest write. Keys come in increasing step order, so each cell
    // keeps its running argmax (the initial values are the writes of step 0).
    this.latest = meta.initial_memory.map((value) => ({ step: 0, value }));
  }

  read(address) {
    return this.latest[address].value;
  }

  // Returns { after, access } or { error } (a runtime error of ISA.md, with the step's reason).
  async step(stepNumber) {
    const s = this.state;
    const n = this.meta.num_instructions;
    const memorySize = this.meta.memory_size;
    if (s.pc >= n) return { error: `pc ${s.pc} outside the program (${n} instructions)` };
    const b = this.meta.blocks[s.pc];
    if (b.stack_check === 'push' && s.sp === 0) return { error: `stack overflow: ${b.opcode} with sp == 0` };
    if (b.stack_check === 'pop' && s.sp >= memorySize)
      return { error: `stack underflow: ${b.opcode} with sp ${s.sp} >= memory size ${memorySize}` };
    let operand = 0;
    let access = null;
    if (b.operand_source === 'immediate') {
      operand = b.operand;
    } else if (b.operand_source === 'memory_at_address' || b.operand_source === 'memory_at_sp') {
      const address = b.operand_source === 'memory_at_sp' ? s.sp : b.operand;
      if (address >= memorySize) return { error: `memory address ${address} >= memory size ${memorySize}` };
      operand = this.read(address);
      access = { kind: 'read', address, value: operand, previous: operand };
    } else if (b.operand_source !== 'none') {
      throw usage(`pc ${s.pc}: unknown operand_source '${b.operand_source}'`);
    }

    const T = this.ort.Tensor;
    const scalar = (v) => new T('int64', BigInt64Array.of(BigInt(v)), [1]);
    const encoded = await this.encoder.run({
      pc: scalar(s.pc), acc: scalar(s.acc), zero_flag: scalar(+s.zero_flag), carry_flag: scalar(+s.carry_flag),
      halted: scalar(+s.halted), sp: scalar(s.sp), operand: scalar(operand),
    });
    const x = Array.from(encoded.x.data, Number);
    const expected = encodeIsa(s, operand);
    for (let k = 0; k < expected.length; ++k)
      if (x[k] !== expected[k])
        return { mismatch: `state encoding x[${k}] (${INPUT_LAYOUT[k]}): onnx ${x[k]}, ISA.md ${expected[k]}` };
    const out = await this.blocks[s.pc].run({ x: encoded.x });
    const y = Array.from(out.y.data, Number);

    const [nextPc, rawAcc, nextSp, writeEnable, writeAddress, writeValue] = y;
    if (nextPc < 0 || nextPc > 255) return { error: `${b.opcode} to ${nextPc}, outside 0..255` };
    if (nextSp < 0 || nextSp > 255) return { mismatch: `the block produced sp ${nextSp}, outside 0..255` };
    const acc = wrap16(rawAcc);
    let zero = s.zero_flag;
    let carry = s.carry_flag;
    switch (b.flag_rule) {
      case 'keep': break;
      case 'clear_carry': zero = acc === 0; carry = false; break;
      case 'overflow': zero = acc === 0; carry = rawAcc < -32768 || rawAcc > 32767; break;
      case 'signed_less': zero = acc === 0; carry = rawAcc < 0; break;
      default: throw usage(`pc ${s.pc}: unknown flag_rule '${b.flag_rule}'`);
    }
    if (writeEnable >= 0.5) {
      if (writeAddress < 0 || writeAddress >= memorySize)
        return { error: `memory address ${writeAddress} >= memory size ${memorySize}` };
      const value = wrap16(writeValue);
      access = { kind: 'write', address: writeAddress, value, previous: this.read(writeAddress) };
      this.latest[writeAddress] = { step: stepNumber, value };
    }
    this.state = { pc: nextPc, acc, sp: nextSp, zero_flag: zero, carry_flag: carry, halted: !!b.halts };
    return { after: this.state, access };
  }
}

function describeRow(row) {
  return `pc ${row.pc}, ${row.instruction}`;
}

// The first difference between a step of each side, or null.
function compareRow(stepNumber, pc, block, result, row) {
  const at = `step ${stepNumber} (${describeRow(row)})`;
  if (row.step !== stepNumber) return `${at}: native trace row numbered ${row.step}`;
  if (row.pc !== pc) return `${at}: pc: onnx ${pc}, native ${row.pc}`;
  if (block && block.instruction !== row.instruction)
    return `${at}: instruction: onnx (metadata) ${block.instruction}, native ${row.instruction}`;
  if (result.error) return `${at}: the ONNX side stops with a runtime error (${result.error}); native goes on`;
  if (result.mismatch) return `${at}: ${result.mismatch}`;
  for (const f of STATE_FIELDS)
    if (result.after[f] !== row.after[f]) return `${at}: after.${f}: onnx ${result.after[f]}, native ${row.after[f]}`;
  const a = result.access;
  const b = row.access || null;
  if ((a === null) !== (b === null))
    return `${at}: access: onnx ${a ? a.kind : 'none'}, native ${b ? b.kind : 'none'}`;
  if (a !== null)
    for (const f of ['kind', 'address', 'value', 'previous'])
      if (a[f] !== b[f]) return `${at}: access.${f}: onnx ${a[f]}, native ${b[f]}`;
  return null;
}

// Steps the ONNX side along the native trace: every row, then the final state and memory.
async function compareWithTrace(machine, meta, trace, options) {
  let steps = 0;
  let message = null;
  while (steps < options.maxSteps && !machine.state.halted) {
    const stepNumber = steps + 1;
    const pc = machine.state.pc;
    const result = await machine.step(stepNumber);
    const row = trace.trace[steps];
    if (row === undefined) {
      message = `step ${stepNumber} (pc ${pc}): the native run stopped after ${trace.trace.length} steps ` +
        `(halted ${trace.halted}), the ONNX side goes on` + (result.error ? ` (into a runtime error: ${result.error})` : '');
      break;
    }
    message = compareRow(stepNumber, pc, meta.blocks[pc], result, row);
    if (message !== null) break;
    steps = stepNumber;
    if (!options.quiet && steps % 65536 === 0) process.stderr.write(`onnx check: ${steps} steps agree\n`);
  }
  if (message === null && steps < trace.trace.length)
    message = `step ${steps + 1}: the ONNX side stopped after ${steps} steps (halted ${machine.state.halted}, ` +
      `max ${options.maxSteps}), the native trace goes on to ${trace.trace.length}`;
  for (const f of STATE_FIELDS)
    if (message === null && machine.state[f] !== trace[f]) message = `final ${f}: onnx ${machine.state[f]}, native ${trace[f]}`;
  const memory = machine.latest.map((cell) => cell.value);
  if (message === null && memory.length !== trace.memory.length)
    message = `final memory size: onnx ${memory.length}, native ${trace.memory.length}`;
  const k = memory.findIndex((v, i) => v !== trace.memory[i]);
  if (message === null && k >= 0) message = `final memory[${k}]: onnx ${memory[k]}, native ${trace.memory[k]}`;
  return { steps, message, agreed: `${steps} steps agree with the native trace (halted ${machine.state.halted}, acc ${machine.state.acc})` };
}

// The native run ended in a runtime error (and printed no trace): the ONNX side must run into one at
// the same step. The states before it are not compared.
async function compareWithError(machine, nativeError, options) {
  let steps = 0;
  let onnx = null;
  while (steps < options.maxSteps && !machine.state.halted) {
    const result = await machine.step(steps + 1);
    if (result.mismatch) return { steps, message: `step ${steps + 1}: ${result.mismatch}` };
    if (result.error) {
      onnx = `stops with one at step ${steps + 1} (${result.error})`;
      if (steps + 1 === nativeError.step)
        return { steps, message: null, agreed: `both stop with a runtime error at step ${steps + 1} (onnx: ` +
          `${result.error}; native: ${nativeError.text}); the states before it are not compared (tvm prints no trace ` +
          'for a failed run)' };
      break;
    }
    ++steps;
  }
  onnx ??= machine.state.halted ? `halts after ${steps} steps` : `runs ${steps} steps without one`;
  return { steps, message: `step ${nativeError.step}: the native run stops with a runtime error (${nativeError.text}); ` +
    `the ONNX side ${onnx}` };
}

async function check(options) {
  const started = performance.now();
  const runtime = loadRuntime(options.quiet);
  const ort = runtime.ort;
  if (options.installOnly) {
    console.log(`onnx check: onnxruntime-node ${runtime.version} in ${runtime.cache} loads`);
    return EXIT_AGREED;
  }
  let temp = null;
  let diverged = false;
  try {
    let modelDir = options.modelDir;
    if (modelDir === null) {
      temp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptvm-onnx-check-'));
      modelDir = temp;
      runTvm(options.tvm, ['export-onnx', options.program, '-o', modelDir, '--layers', String(options.layers)],
        `tvm export-onnx ${options.program}`);
    }
    // The native run: its trace, or (a run that ends in a runtime error prints no trace) the step
    // of its error.
    let trace = null;
    let nativeError = null;
    if (options.trace !== null) {
      trace = readJson(options.trace, 'the native trace');
    } else {
      const r = spawnTvm(options.tvm, ['run', options.program, '--trace', '--json', '--engine', 'native',
        '--max-steps', String(options.maxSteps)]);
      const error = /runtime error at step ([0-9]+)/.exec(r.stderr);
      if (r.status === 0) trace = JSON.parse(r.stdout);
      else if (r.status === 1 && error) nativeError = { step: Number(error[1]), text: r.stderr.trim() };
      else throw usage(`tvm run ${options.program} failed (exit ${r.status}): ${r.stderr.trim()}`);
    }
    if (trace !== null && !Array.isArray(trace.trace))
      throw usage('the native trace has no "trace" list (tvm run --trace --json)');
    const meta = readJson(path.join(modelDir, 'metadata.json'), 'the export metadata');
    checkMetadata(meta, modelDir);

    const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
    const open = async (file) => {
      try {
        return await ort.InferenceSession.create(path.join(modelDir, file), sessionOptions);
      } catch (e) {
        throw usage(`${path.join(modelDir, file)}: ONNX Runtime cannot load it: ${e.message}`);
      }
    };
    const encoder = await open(meta.state_encoding.file);
    const blocks = [];
    for (const b of meta.blocks) blocks.push(await open(b.file));
    const machine = new OnnxMachine(ort, meta, encoder, blocks);

    const name = options.program ?? trace.program;
    const { message, agreed } = nativeError === null
      ? await compareWithTrace(machine, meta, trace, options)
      : await compareWithError(machine, nativeError, options);
    if (message !== null) {
      diverged = true;
      if (temp !== null) message += ` (models kept in ${temp})`;
      console.log(`onnx check: ${name}: diverged at ${message}`);
      return EXIT_DIVERGED;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    console.log(`onnx check: ${name}: ${agreed}; ${meta.num_instructions} block models + the state encoding on ` +
      `ONNX Runtime, ${seconds} s`);
    return EXIT_AGREED;
  } finally {
    if (temp !== null && !diverged) fs.rmSync(temp, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await check(parseArguments(process.argv.slice(2)));
} catch (e) {
  // Anything unexpected is exit 2 too: exit 1 means a divergence and nothing else.
  const failure = e instanceof Failure ? e : new Failure(EXIT_ERROR, `internal: ${e.stack || e}`);
  console.log(`onnx check: ${failure.exitCode === EXIT_UNAVAILABLE ? 'skipped: ' : 'error: '}${failure.message}`);
  process.exitCode = failure.exitCode;
}
