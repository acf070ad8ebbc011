"""Train each model and save it as a bundle of the spec's IrisClassifier.

Runs under our .venv (our kernel) and under BentoML 0.8.6's env alike:
    python save_bento_bundles.py OUT_DIR   ->  OUT_DIR/rf, OUT_DIR/svc
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from iris_classifier import IrisClassifier  # noqa: E402
from models import MODELS, train  # noqa: E402

out = os.path.abspath(sys.argv[1])
for kind in MODELS:
    svc = IrisClassifier()
    svc.pack("model", train(kind))
    print(kind, "in-process:", svc.predict([[5.1, 3.5, 1.4, 0.2]]))
    os.makedirs(os.path.join(out, kind), exist_ok=True)
    svc.save_to_dir(os.path.join(out, kind))
    print(os.path.join(out, kind))
