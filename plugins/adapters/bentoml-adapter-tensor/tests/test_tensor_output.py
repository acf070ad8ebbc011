"""TfTensorOutput (BentoML 0.10-0.13) holds to the output adapter contract: tensors as nested lists."""
import json

import numpy as np
import tensorflow as tf

from bentoml.testing import OutputAdapterContract
from bentoml_adapter_tensor import TfTensorOutput


class TestTfTensorOutput(OutputAdapterContract):
    adapter = TfTensorOutput()
    distribution = "bentoml-adapter-tensor"
    good_shares = [tf.constant([[1.0, 2.5], [3.0, 4.0]]), tf.constant(7), np.array([1, 2]), [0.5]]

    def check_result(self, share, result):
        assert result.content_type == "application/json"
        expected = share.numpy().tolist() if hasattr(share, "numpy") else np.asarray(share).tolist()
        assert json.loads(result.body) == expected
