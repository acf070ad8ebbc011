"""What native code writes to fd 2 while a framework loads: absl INFO lines dropped, the rest kept."""
import subprocess
import sys
import textwrap

from bentoml.native_logs import absl_lines_below

INFO = b"I0000 00:00:1796117432.923436    7496 port.cc:153] oneDNN custom operations are on."
OLD_INFO = b"2024-01-11 05:40:05.061907: I tensorflow/core/platform/cpu_feature_guard.cc:182] optimized"
WARNING = b"W0000 00:00:1758131045.228000 3722035 gpu_device.cc:2344] Cannot dlopen some GPU libraries."
ERROR = b"E0000 00:00:1758131045.203198 3722035 cuda_dnn.cc:8579] Unable to register cuDNN factory"
BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
NL = b"\n"


def test_levels_follow_tf_cpp_min_log_level():
    assert [absl_lines_below(1)(line) for line in (INFO, OLD_INFO, WARNING, ERROR, BANNER)] == \
        [True, True, False, False, True]
    assert [absl_lines_below(2)(line) for line in (INFO, WARNING, ERROR)] == [True, True, False]
    assert not any(absl_lines_below(0)(line) for line in (INFO, WARNING, BANNER))
    assert not absl_lines_below(3)(b"plain text I0000 is not a log line")


def test_native_writes_are_filtered_and_the_rest_pass_in_order():
    code = textwrap.dedent(f"""
        import os, sys
        from bentoml.native_logs import absl_lines_below, filter_native_stderr
        sys.stderr.write("before\\n")
        with filter_native_stderr(absl_lines_below(1)):
            os.write(2, {BANNER + NL!r})
            os.write(2, {INFO + NL!r})
            os.write(2, b"a real message\\n" + {WARNING!r} + b"\\npartial")
            sys.stderr.write(" end\\n")
        os.write(2, {INFO + NL!r})
        print("stdout untouched")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"stdout untouched\n"
    assert out.stderr == b"before\na real message\n" + WARNING + b"\npartial end\n" + INFO + b"\n"


def test_import_with_log_level_sets_the_default_and_honours_the_users(tmp_path):
    (tmp_path / "noisy.py").write_text(textwrap.dedent(f"""
        import os
        os.write(2, {INFO + NL!r})
        LEVEL = os.environ["NOISY_LEVEL"]
        """))
    code = ("import sys; from bentoml.native_logs import import_with_log_level; "
            "print(import_with_log_level('noisy', 'NOISY_LEVEL').LEVEL)")
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, timeout=60,
                           env={"PATH": "", "PYTHONPATH": str(tmp_path)})
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"1\n", b""), quiet.stderr
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, timeout=60,
                            env={"PATH": "", "PYTHONPATH": str(tmp_path), "NOISY_LEVEL": "0"})
    assert (chosen.returncode, chosen.stdout, chosen.stderr) == (0, b"0\n", INFO + b"\n"), chosen.stderr
