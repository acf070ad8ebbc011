"""``@bentoml.api`` keywords: 0.8.6 ignored unknown ones; here a typo is an error that names the
option meant, and 0.8's ``api_doc`` works.

From the 0.8 API reference of ``bentoml.api`` (``input``, ``output``, ``api_name``,
``api_doc``, ``mb_max_batch_size``, ``mb_max_latency``) and 0.10's ``batch``.
"""
from __future__ import annotations

import pytest

import bentoml
from bentoml.exceptions import InvalidArgument


def _declare(**options):
    from bentoml.adapters import DataframeInput

    def predict(self, df):
        """The method's own docstring."""
        return df

    return bentoml.api(**{"input": DataframeInput(), **options})(predict)._bento_api_spec


@pytest.mark.parametrize("typo,meant", [
    ("mb_max_latancy", "mb_max_latency"),
    ("mb_max_batchsize", "mb_max_batch_size"),
    ("api_nmae", "api_name"),
    ("ouput", "output"),
    ("batched", "batch"),
    ("api_docs", "api_doc"),
])
def test_a_misspelled_option_names_the_option_meant(typo, meant):
    with pytest.raises(InvalidArgument) as info:
        _declare(**{typo: 1})
    assert str(info.value) == f"@api() got an unexpected option {typo!r}; did you mean {meant!r}?"


def test_an_adapter_option_given_to_api_says_where_it_belongs():
    with pytest.raises(InvalidArgument) as info:
        _declare(typ="series")
    assert str(info.value) == ("@api() got an unexpected option 'typ' (an option of DataframeInput: "
                               "input=DataframeInput(..., typ=...))")


def test_several_unknown_options_are_all_named_on_one_line():
    with pytest.raises(InvalidArgument) as info:
        _declare(mb_max_latancy=1, zzz=2)
    message = str(info.value)
    assert message.startswith("@api() got unexpected options 'mb_max_latancy'; did you mean 'mb_max_latency'?")
    assert "'zzz'" in message and "\n" not in message


def test_api_doc_replaces_the_docstring():
    assert _declare(api_doc="Predicts iris species.").doc == "Predicts iris species."
    assert _declare().doc == "The method's own docstring."
