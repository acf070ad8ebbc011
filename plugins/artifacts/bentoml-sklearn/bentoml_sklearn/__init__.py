"""scikit-learn models as BentoML artifacts, saved with joblib.

``from bentoml.artifact import SklearnModelArtifact`` resolves to the class
below once this distribution is installed.  scikit-learn and joblib are
imported only when a model is packed, saved or loaded.
"""
from __future__ import annotations

import os
from typing import Any, Optional

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import InvalidArgument
from bentoml.hookspecs import hookimpl

from bentoml_sklearn import _input_errors

__all__ = ["SklearnModelArtifact"]


class SklearnModelArtifact(BentoServiceArtifact):
    """A scikit-learn estimator (or pipeline), stored as ``<name>.pkl`` with joblib.

    Packs any ``sklearn.base.BaseEstimator`` and, for sklearn-compatible
    models from other libraries, any object with a ``predict`` method::

        @bentoml.artifacts([SklearnModelArtifact("model")])
        class IrisClassifier(bentoml.BentoService):
            ...

        svc.pack("model", svm.SVC().fit(X, y))

    Input the model refuses is a 400 naming what is wrong: scikit-learn's own
    input checks (the feature count, feature names unseen at fit time, text
    that is not a number, NaN or infinity) raise inside
    ``sklearn.utils.validation``, and :meth:`bad_input_message` claims exactly
    those; any other exception of the API function stays a 500.

    :param name: the artifact's name (``self.artifacts.<name>``).
    :param pickle_extension: extension of the saved file.
    """

    # joblib is scikit-learn's own dependency, but the bundle loads with it directly.
    requirement_imports = ("sklearn", "joblib")
    fork_safe = True  # plain Python/numpy objects: workers share them copy-on-write

    @classmethod
    def bad_input_message(cls, exc: BaseException) -> Optional[str]:
        """scikit-learn's input checks refusing the input (see :mod:`bentoml_sklearn._input_errors`)."""
        return _input_errors.message(exc)

    def __init__(self, name: str, pickle_extension: str = ".pkl"):
        super().__init__(name)
        if not isinstance(pickle_extension, str) or not pickle_extension.startswith("."):
            raise InvalidArgument(
                f"SklearnModelArtifact(pickle_extension=...) must start with '.', got {pickle_extension!r}")
        self.pickle_extension = pickle_extension

    def _file(self, path: str) -> str:
        return os.path.join(path, self.name + self.pickle_extension)

    def _pack(self, obj: Any) -> Any:
        if _is_estimator(obj):
            return obj
        # BentoML 0.x pickled whatever it was given; services packed several models at once
        # (``self.artifacts.model["xgb"]``): a dict, list or tuple of estimators is one artifact.
        if isinstance(obj, (dict, list, tuple)) and obj:
            bad = [v for v in (obj.values() if isinstance(obj, dict) else obj) if not _is_estimator(v)]
            if not bad:
                return obj
            obj = bad[0]
        what = obj if isinstance(obj, type) else type(obj)
        hint = " (the class itself; pass a fitted instance)" if isinstance(obj, type) else ""
        raise InvalidArgument(
            f"SklearnModelArtifact {self.name!r} packs a scikit-learn estimator "
            f"(sklearn.base.BaseEstimator, or an object with a predict method), or a dict, list or "
            f"tuple of them; "
            f"got {what.__module__}.{what.__qualname__}{hint}")

    def _save(self, obj: Any, path: str) -> None:
        import joblib

        joblib.dump(obj, self._file(path))

    def _load(self, path: str) -> Any:
        import joblib

        return joblib.load(self._file(path))


@hookimpl
def register_artifacts(register):
    register(SklearnModelArtifact, legacy_paths=("bentoml.frameworks.sklearn",))  # where BentoML 0.9-0.13 kept it


def _is_estimator(obj: Any) -> bool:
    # Duck typing first: it needs no sklearn import and admits xgboost/lightgbm
    # wrappers that follow the estimator API without subclassing BaseEstimator.
    if isinstance(obj, type):
        return False
    if callable(getattr(obj, "predict", None)):
        return True
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - sklearn is a dependency
        return False
    return isinstance(obj, BaseEstimator)  # transformers have no predict but are estimators
