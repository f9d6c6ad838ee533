#!/usr/bin/env python3
"""onnx.checker (python3-onnx) on every file `tvm export-onnx` writes, for every shipped program.

    onnx_checker_test.py TVM PROGRAMS_DIR

Each model must pass check_model with full_check (which runs strict shape inference); the inferred
shapes and types must be the documented ones (the state encoding gives int64 [41], a block maps
int64 [41] to int64 [6]), and metadata.json must list exactly the files written. Exit 0 ok,
1 a failure, 77 (skipped) when python3-onnx is not installed.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

try:
    import onnx
    import onnx.checker
    import onnx.shape_inference
except ImportError as e:  # python3-onnx (tools/setup.sh installs it)
    print(f"skipped: python3-onnx is not installed ({e}); apt-get install python3-onnx")
    sys.exit(77)


def tensor_signature(value_info):
    t = value_info.type.tensor_type
    return (onnx.TensorProto.DataType.Name(t.elem_type), [d.dim_value for d in t.shape.dim])


def check_file(path, inputs, outputs):
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    got_in = {v.name: tensor_signature(v) for v in inferred.graph.input}
    got_out = {v.name: tensor_signature(v) for v in inferred.graph.output}
    if got_in != inputs or got_out != outputs:
        raise AssertionError(f"{path}: signature {got_in} -> {got_out}, expected {inputs} -> {outputs}")
    # Every intermediate's inferred type is int64 too.
    for v in inferred.graph.value_info:
        if tensor_signature(v)[0] != "INT64":
            raise AssertionError(f"{path}: {v.name} is {tensor_signature(v)[0]}")


def main():
    tvm, programs = sys.argv[1], pathlib.Path(sys.argv[2])
    failures = 0
    checked = 0
    encoding_inputs = {name: ("INT64", [1]) for name in
                       ["pc", "acc", "zero_flag", "carry_flag", "halted", "sp", "operand"]}
    for program in sorted(programs.glob("*.tvm")):
        with tempfile.TemporaryDirectory(prefix="ptvm-onnx-checker-") as out:
            try:
                subprocess.run([tvm, "export-onnx", str(program), "-o", out, "--layers", "2"],
                               check=True, capture_output=True, text=True)
                out = pathlib.Path(out)
                meta = json.loads((out / "metadata.json").read_text())
                check_file(out / meta["state_encoding"]["file"], encoding_inputs, {"x": ("INT64", [41])})
                listed = {meta["state_encoding"]["file"]}
                for block in meta["blocks"]:
                    check_file(out / block["file"], {"x": ("INT64", [41])}, {"y": ("INT64", [6])})
                    listed.add(block["file"])
                    checked += 1
                written = {str(p.relative_to(out)) for p in out.rglob("*.onnx")}
                if written != listed:
                    raise AssertionError(f"files written {sorted(written)} != listed {sorted(listed)}")
                print(f"ok {program.name}: {len(meta['blocks'])} blocks and the state encoding")
            except Exception as e:  # report every program, then fail
                failures += 1
                detail = e.stderr if isinstance(e, subprocess.CalledProcessError) else e
                print(f"FAIL {program.name}: {detail}")
    print(f"onnx {onnx.__version__}: {checked} block models checked, {failures} program(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
