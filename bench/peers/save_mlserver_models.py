"""Train each model in MLServer's env and write an MLServer model repository.

    python save_mlserver_models.py OUT_DIR  ->  OUT_DIR/iris-rf/, OUT_DIR/iris-svc/

Adaptive batching: max_batch_size 64, max_batch_time 0.005 s (MLServer 1.7
ModelSettings field names; see mlserver/settings.py).
"""
import json
import os
import sys

import joblib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MODELS, train  # noqa: E402

out = os.path.abspath(sys.argv[1])
for kind in MODELS:
    d = os.path.join(out, "iris-" + kind)
    os.makedirs(d, exist_ok=True)
    joblib.dump(train(kind), os.path.join(d, "model.joblib"))
    with open(os.path.join(d, "model-settings.json"), "w") as f:
        json.dump({
            "name": "iris-" + kind,
            "implementation": "mlserver_sklearn.SKLearnModel",
            "max_batch_size": 64,
            "max_batch_time": 0.005,
            "parameters": {"uri": "./model.joblib"},
        }, f, indent=2)
    print(d)
