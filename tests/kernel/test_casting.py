"""bentoml.casting.lossless_cast: casts that keep every value, BadInput naming the input otherwise."""
import subprocess
import sys

import pytest

from bentoml.casting import lossless_cast
from bentoml.exceptions import BadInput

np = pytest.importorskip("numpy")


def refused(array, dtype, what="input 'x'"):
    with pytest.raises(BadInput) as info:
        lossless_cast(np.asarray(array), dtype, what)
    message = str(info.value)
    assert message.startswith(f"{what} holds "), message
    return message


def test_importing_the_module_does_not_import_numpy():
    code = "import sys, bentoml.casting; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_same_dtype_is_returned_as_is():
    array = np.array([1.5, 2.5], dtype=np.float32)
    assert lossless_cast(array, "float32", "x") is array


def test_ints_into_float32():
    out = lossless_cast(np.array([[1, 2], [3, -4]]), "float32", "x")
    assert out.dtype == np.float32 and out.tolist() == [[1.0, 2.0], [3.0, -4.0]]


def test_integral_floats_into_int32():
    out = lossless_cast(np.array([3.0, -2.0]), "int32", "x")
    assert out.dtype == np.int32 and out.tolist() == [3, -2]
    assert lossless_cast(np.array(7, dtype=np.int64), np.dtype("uint8"), "x").dtype == np.uint8


def test_fraction_into_int32_is_refused():
    message = refused([1.0, 3.7], "int32")
    assert "non-integer values (e.g. 3.7)" in message and "int32 is expected" in message


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_inf_and_nan_into_int_are_refused(value):
    message = refused([1.0, value], "int64")
    assert f"(e.g. {float(value)!r})" in message and "int64" in message


@pytest.mark.parametrize("array, dtype, example", [
    ([300], "uint8", "300"),
    ([-1], "uint32", "-1"),
    ([2 ** 40], "int32", str(2 ** 40)),
    ([2.0 ** 63], "int64", repr(2.0 ** 63)),  # one past int64's max, where float comparison would round
    (np.array([2 ** 64 - 1], dtype=np.uint64), "int64", str(2 ** 64 - 1)),
])
def test_out_of_range_is_refused(array, dtype, example):
    message = refused(array, dtype)
    assert f"outside the {dtype} range" in message and f"(e.g. {example})" in message


def test_ranges_are_inclusive():
    assert lossless_cast(np.array([0, 255]), "uint8", "x").tolist() == [0, 255]
    assert lossless_cast(np.array([-(2.0 ** 63)]), "int64", "x").tolist() == [-(2 ** 63)]


def test_float_overflow_is_refused():
    message = refused([1.0, 1e39], "float32")
    assert "too large for float32 (e.g. 1e+39)" in message
    assert "too large for float16 (e.g. 70000)" in refused([70000], "float16")
    # rounding to the nearest float is a float cast, not a changed value; inf stays inf
    assert lossless_cast(np.array([0.1, np.inf]), "float32", "x").tolist() == [np.float32(0.1), np.inf]


def test_strings_into_numbers_are_refused():
    assert refused(["a", "b"], "float32") == "input 'x' holds strings (e.g. 'a') but float32 is expected"
    # bytes that are text show as the text a client sent
    assert "holds strings (e.g. 'a')" in refused(np.array([b"a"], dtype=object), "int32")
    assert "holds strings (e.g. b'\\xff')" in refused(np.array([b"\xff"]), "int32")


def test_booleans_and_numbers_do_not_mix():
    assert refused([True, False], "float32") == "input 'x' holds booleans (e.g. True) but float32 is expected"
    assert refused([1, 0], "bool") == "input 'x' holds int64 numbers (e.g. 1) but bool is expected"
    assert "holds strings" in refused(["true"], "bool")


def test_complex_numbers():
    message = refused([1 + 0j, 2 + 3j], "float64")
    assert "imaginary part (e.g. (2+3j))" in message and "float64 is expected" in message
    assert lossless_cast(np.array([1 + 0j, 2 + 0j]), "int32", "x").tolist() == [1, 2]
    assert lossless_cast(np.array([1.5]), "complex64", "x").tolist() == [1.5 + 0j]


def test_string_target_from_str_and_bytes():
    for array in (np.array([["héllo", "a"]]), np.array([["héllo", "a"]], dtype=object),
                  np.array([["héllo".encode(), b"a"]]), np.array([["héllo", b"a"]], dtype=object)):
        out = lossless_cast(array, "string", "x")
        assert out.dtype == object and out.shape == (1, 2) and out.tolist() == [["héllo".encode(), b"a"]]
    already = np.array([b"\x00\xff"], dtype=object)
    assert lossless_cast(already, "string", "x") is already
    scalar = lossless_cast(np.array("text"), "string", "x")
    assert scalar.shape == () and scalar.item() == b"text"


def test_string_target_refuses_other_values():
    assert refused([1, 2], "string") == "input 'x' holds int64 numbers (e.g. 1) but strings are expected"
    assert "holds int and str values (e.g. 1)" in refused(np.array(["a", 1], dtype=object), "string")
    assert refused(np.zeros((0, 2)), "string") == "input 'x' holds float64 numbers but strings are expected"


def test_non_numeric_targets_are_a_programming_error():
    with pytest.raises(ValueError, match="datetime64"):
        lossless_cast(np.array([1]), "datetime64[s]", "x")
