"""``bentoml run BUNDLE API --input FILE --output FILE``: batch jobs over real files, in real CLI subprocesses.

The bundle is a plain-python service (no model library): its answers are
computed from the row, so every output row can be checked against its input
row, and against ``bentoml run --input`` on that row alone.  These tests need
pandas, pyarrow and the DataFrame/JSON/file adapter plugins (tox env ``all``).
"""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from bentoml.testing.server import save_service_source

SERVICE = textwrap.dedent('''\
    import time

    import bentoml
    from bentoml.adapters import DataframeInput, FileInput, JsonInput


    class Rows(bentoml.BentoService):
        """Answers computed from each row."""

        @bentoml.api(input=DataframeInput(input_dtypes={"a": "int64"}))
        def predict(self, df):
            """2a + b per row; a negative a is a bug of this code (it raises)."""
            if (df["a"] < 0).any():
                raise RuntimeError("negative a")
            return (df["a"] * 2 + df["b"]).tolist()

        @bentoml.api(input=DataframeInput())
        def record(self, df):
            """A dict per row: its columns in the output."""
            return [{"total": int(a + b), "big": bool(a > 50)} for a, b in zip(df["a"], df["b"])]

        @bentoml.api(input=JsonInput())
        def pair(self, docs):
            """One JSON document per row: a list per row (columns 0 and 1)."""
            return [[d["a"], d["a"] * d["b"]] for d in docs]

        @bentoml.api(input=DataframeInput())
        def slow(self, df):
            """A slow model: a progress bar is due."""
            time.sleep(0.25)
            return df["a"].tolist()

        @bentoml.api(input=FileInput())
        def size(self, files):
            return [len(f.read()) for f in files]
''')


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return str(save_service_source(SERVICE, "batch_rows_service", "Rows", tmp_path_factory.mktemp("b") / "bundle"))


def bentoml(*args, stdin=None, check=False):
    proc = subprocess.run([sys.executable, "-m", "bentoml", "-q", *args], input=stdin, capture_output=True,
                          timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def rows(n, start=0):
    return pd.DataFrame({"a": range(start, start + n), "b": [i % 7 for i in range(n)]})


def test_csv_to_csv_in_input_order_across_chunks(bundle, tmp_path):
    rows(103).to_csv(tmp_path / "in.csv", index=False)
    bentoml("run", bundle, "predict", "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv"),
            "--chunk-size", "10", check=True)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["result"]
    assert out["result"].tolist() == [2 * a + a % 7 for a in range(103)]
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]


def test_each_row_equals_what_bentoml_run_answers_for_it_alone(bundle, tmp_path):
    frame = rows(40, start=3)
    frame.to_csv(tmp_path / "in.csv", index=False)
    bentoml("run", bundle, "record", "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.jsonl"),
            "--chunk-size", "16", check=True)
    batch = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(batch) == 40
    for i in (0, 17, 39):  # first chunk, a middle one, the last
        one = json.dumps([{"a": int(frame.a[i]), "b": int(frame.b[i])}])
        alone = json.loads(bentoml("run", bundle, "record", "--input", one, check=True).stdout)
        assert batch[i] == alone[0]


def test_json_lines_rows_reach_json_input_as_one_document_each(bundle, tmp_path):
    lines = [json.dumps({"a": i, "b": i % 3}) for i in range(25)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    bentoml("run", bundle, "pair", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out.csv"),
            "--chunk-size", "4", check=True)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["0", "1"]
    assert out.values.tolist() == [[i, i * (i % 3)] for i in range(25)]


def test_parquet_in_and_out(bundle, tmp_path):
    rows(70).to_parquet(tmp_path / "in.parquet")
    bentoml("run", bundle, "record", "--input", str(tmp_path / "in.parquet"),
            "--output", str(tmp_path / "out.parquet"), "--chunk-size", "30", check=True)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out.to_dict("list") == {"total": [a + a % 7 for a in range(70)], "big": [a > 50 for a in range(70)]}


def test_stdin_to_stdout(bundle):
    text = rows(12).to_csv(index=False).encode()
    proc = bentoml("run", bundle, "predict", "--input", "-", "--output", "-", "--chunk-size", "5", stdin=text,
                   check=True)
    assert proc.stdout.decode().splitlines() == ["result"] + [str(2 * a + a % 7) for a in range(12)]
    assert proc.stderr == b""  # no progress bar on a pipe


def test_a_bad_value_names_its_row_and_leaves_no_output(bundle, tmp_path):
    frame = rows(50).astype(object)
    frame.loc[36, "a"] = "seven"  # the 37th row
    frame.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "out.csv").write_text("old results\n")
    proc = bentoml("run", bundle, "predict", "--input", str(tmp_path / "in.csv"),
                   "--output", str(tmp_path / "out.csv"), "--chunk-size", "10")
    assert proc.returncode == 1
    err = proc.stderr.decode().strip()
    assert err.startswith("Error: row 37:") and "'a'" in err and "int64" in err and len(err.splitlines()) == 1
    assert (tmp_path / "out.csv").read_text() == "old results\n"  # untouched, and no partial file beside it
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.csv"]


def test_a_row_with_too_many_fields_is_named_by_row_and_line(bundle, tmp_path):
    (tmp_path / "in.csv").write_text("a,b\n1,2\n3,4\n5,6,7\n8,9\n")
    proc = bentoml("run", bundle, "predict", "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "o.csv"))
    assert proc.returncode == 1
    assert "row 3 (line 4): 3 fields where the header has 2" in proc.stderr.decode()
    assert not (tmp_path / "o.csv").exists()


def test_bad_json_line_is_named(bundle, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"a": 1, "b": 2}\n\n{"a": 2, "b": \n')
    proc = bentoml("run", bundle, "pair", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "o.csv"))
    assert proc.returncode == 1
    assert "row 2 (line 3): not valid JSON" in proc.stderr.decode()


def test_user_code_raising_names_the_rows_of_the_failing_batch(bundle, tmp_path):
    frame = rows(40)
    frame.loc[24, "a"] = -1
    frame.to_csv(tmp_path / "in.csv", index=False)
    proc = bentoml("run", bundle, "predict", "--input", str(tmp_path / "in.csv"),
                   "--output", str(tmp_path / "o.csv"), "--chunk-size", "10")
    assert proc.returncode == 1
    assert "Error: rows 21-30: API 'predict' failed: RuntimeError: negative a" in proc.stderr.decode()
    assert not (tmp_path / "o.csv").exists()


def test_a_file_input_api_is_refused_by_name(bundle, tmp_path):
    rows(3).to_csv(tmp_path / "in.csv", index=False)
    proc = bentoml("run", bundle, "size", "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "o.csv"))
    assert proc.returncode == 1
    assert "takes FileInput" in proc.stderr.decode() and "tabular or JSON input" in proc.stderr.decode()


@pytest.mark.parametrize("args, message", [
    (["--output", "o.csv"], "--output needs --input"),
    (["--input", "in.csv", "--chunk-size", "5"], "--chunk-size applies to batch jobs only"),
    (["--input", "in.csv", "--output", "o.json"], "cannot tell the format of 'o.json'"),
    (["--input", "missing.csv", "--output", "o.csv"], "no such file: missing.csv"),
    (["--input", "in.csv", "--output", "o.csv", "--chunk-size", "0"], "--chunk-size"),
])
def test_usage_errors_exit_2_with_one_line(bundle, tmp_path, args, message):
    rows(3).to_csv(tmp_path / "in.csv", index=False)
    proc = subprocess.run([sys.executable, "-m", "bentoml", "-q", "run", bundle, "predict", *args],
                          capture_output=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr.decode()
    assert not (tmp_path / "o.csv").exists()


def test_without_output_run_answers_the_whole_file_as_before(bundle, tmp_path):
    rows(4).to_csv(tmp_path / "in.csv", index=False)
    proc = bentoml("run", bundle, "predict", "--input", str(tmp_path / "in.csv"), check=True)
    assert json.loads(proc.stdout) == [0, 3, 6, 9]


def _peak_rss_kib(args):
    """The child's own peak resident set (VmHWM in /proc), in KiB, read until it exits.

    Not wait4's ru_maxrss: Linux carries the forking parent's peak (this test
    process, with its big DataFrame) over into the child's.
    """
    proc = subprocess.Popen([sys.executable, "-m", "bentoml", "-q", *args], stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                peak = max([peak] + [int(line.split()[1]) for line in f if line.startswith("VmHWM:")])
        except OSError:  # it has just exited
            pass
        time.sleep(0.02)
    assert proc.returncode == 0, proc.stderr.read().decode()
    proc.stderr.close()
    return peak


def test_memory_stays_bounded_on_a_file_far_larger_than_a_chunk(bundle, tmp_path):
    big = pd.DataFrame({name: range(1_500_000) for name in ("a", "b", "c", "d", "e", "f", "g", "h")})
    big.to_csv(tmp_path / "big.csv", index=False)
    in_memory_kib = big.memory_usage(index=False).sum() // 1024  # ~94 MiB, without the text it was read from
    del big
    rows(1000).to_csv(tmp_path / "small.csv", index=False)
    small = _peak_rss_kib(["run", bundle, "predict", "--input", str(tmp_path / "small.csv"),
                           "--output", str(tmp_path / "small-out.csv")])
    large = _peak_rss_kib(["run", bundle, "predict", "--input", str(tmp_path / "big.csv"),
                           "--output", str(tmp_path / "big-out.csv")])
    assert sum(1 for _ in open(tmp_path / "big-out.csv")) == 1_500_001
    assert large - small < in_memory_kib / 4, (small, large, in_memory_kib)


def test_a_progress_bar_on_a_terminal_and_none_on_a_pipe(bundle, tmp_path):
    rows(80).to_csv(tmp_path / "in.csv", index=False)
    args = [sys.executable, "-m", "bentoml", "run", bundle, "slow", "--input", str(tmp_path / "in.csv"),
            "--output", str(tmp_path / "o.csv"), "--chunk-size", "10"]
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal (EIO)
            break
        if not data:
            break
        shown += data
    os.close(master)
    assert proc.wait(timeout=120) == 0, shown
    assert b"slow on " in shown and b"100%" in shown
    piped = subprocess.run(args, capture_output=True, timeout=120)
    assert piped.returncode == 0 and b"slow on" not in piped.stderr
