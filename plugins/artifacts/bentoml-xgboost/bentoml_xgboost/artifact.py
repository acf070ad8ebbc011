"""XgboostModelArtifact: an ``xgboost.Booster`` or a scikit-learn style XGBoost model."""
from __future__ import annotations

import logging
import os
from typing import Any, Optional

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import BundleError, InvalidArgument

from bentoml_xgboost import _input_errors, _metadata

logger = logging.getLogger(__name__)

MODEL_FORMATS = ("ubj", "json")


class XgboostModelArtifact(BentoServiceArtifact):
    """An XGBoost model, saved in XGBoost's own format (never pickle) and loaded back as the same type.

    Packs an ``xgboost.Booster`` (from ``xgboost.train``) or a fitted scikit-learn
    style model: ``XGBClassifier``, ``XGBRegressor``, ``XGBRanker``,
    ``XGBRFClassifier``, ``XGBRFRegressor`` or a subclass of ``xgboost.XGBModel``::

        @bentoml.artifacts([XgboostModelArtifact("model")])
        class Churn(bentoml.BentoService):
            @bentoml.api(input=DataframeInput())
            def predict(self, df):
                return self.artifacts.model.predict(df)

        svc.pack("model", xgboost.XGBClassifier(n_estimators=50).fit(X, y))

    A Booster comes back a Booster (``predict`` takes an ``xgboost.DMatrix``;
    ``inplace_predict`` takes a DataFrame or array); an XGBClassifier comes back
    an XGBClassifier with ``predict``/``predict_proba``, its classes and feature
    names, and its constructor parameters (``missing=`` among them).  Parameters
    that are not JSON (callbacks, a custom objective function) are not saved;
    the saved trees still predict the same.

    Saved under ``artifacts/<name>/``: ``<name>.ubj`` (or ``.json``), written by
    XGBoost's ``save_model``, and ``<name>.meta.json``, the class and parameters
    to rebuild it with.

    Threads: XGBoost predicts with an OpenMP thread pool, which a forked process
    must not inherit, so the server loads this artifact in each worker after the
    fork (``fork_safe = False``).  By default every worker uses all the cores
    (or ``OMP_NUM_THREADS``), so ``--workers N`` on C cores runs up to N x C
    threads; set ``nthread`` (or ``OMP_NUM_THREADS``) to about C / N when the
    workers are busy at once.  The saving machine's ``n_jobs`` and ``device``
    are not kept: the serving machine decides those.

    Input the model refuses is a 400 naming what is wrong (see
    :meth:`bad_input_message`): feature names or a width other than the
    model's, columns that are not numbers, infinity; any other exception of the
    API function stays a 500.

    :param name: the artifact's name (``self.artifacts.<name>``).
    :param model_format: ``"ubj"`` (UBJSON, XGBoost's default: smaller and
        faster to load) or ``"json"`` (human readable).  Loading follows what
        was saved, whatever this says.
    :param nthread: threads each loaded model predicts with; None leaves
        XGBoost's default.
    """

    requirement_imports = ("xgboost",)
    fork_safe = False
    # XGBoost documents concurrent prediction as safe for gbtree/dart but not gblinear,
    # and one call at a time already uses every thread: let the server serialize calls.
    thread_safe = False

    @classmethod
    def bad_input_message(cls, exc: BaseException) -> Optional[str]:
        """XGBoost's data conversion and feature checks refusing the input (see
        :mod:`bentoml_xgboost._input_errors`), e.g. ``the model expects 4 features, got 3``."""
        return _input_errors.message(exc)

    def __init__(self, name: str, model_format: str = "ubj", nthread: Optional[int] = None):
        super().__init__(name)
        if model_format not in MODEL_FORMATS:
            raise InvalidArgument(
                f"XgboostModelArtifact(model_format=...) must be one of {MODEL_FORMATS}, got {model_format!r}")
        if nthread is not None and (isinstance(nthread, bool) or not isinstance(nthread, int) or nthread < 1):
            raise InvalidArgument(f"XgboostModelArtifact(nthread=...) must be None or a positive int, got {nthread!r}")
        self.model_format = model_format
        self.nthread = nthread

    def _meta_file(self, path: str) -> str:
        return os.path.join(path, f"{self.name}.meta.json")

    def _uses_sklearn(self) -> None:
        # The scikit-learn style classes need scikit-learn where the bundle is served.
        self.requirement_imports = ("xgboost", "sklearn")

    def _pack(self, obj: Any) -> Any:
        xgboost = _metadata.import_xgboost()
        if isinstance(obj, xgboost.Booster):
            return obj
        if isinstance(obj, xgboost.XGBModel):
            if not obj.__sklearn_is_fitted__():
                raise InvalidArgument(
                    f"XgboostModelArtifact {self.name!r} got an unfitted {type(obj).__name__}; call fit() first")
            self._uses_sklearn()
            return obj
        what = obj if isinstance(obj, type) else type(obj)
        hint = " (the class itself; pass a fitted instance)" if isinstance(obj, type) else ""
        raise InvalidArgument(
            f"XgboostModelArtifact {self.name!r} packs an xgboost.Booster or a fitted xgboost.XGBModel "
            f"(XGBClassifier, XGBRegressor, XGBRanker, ...); got {what.__module__}.{what.__qualname__}{hint}")

    def _save(self, obj: Any, path: str) -> None:
        xgboost = _metadata.import_xgboost()
        model_file = f"{self.name}.{self.model_format}"
        meta = {
            "metadata_version": _metadata.METADATA_VERSION,
            "class": _metadata.class_path(type(obj)),
            "model_file": model_file,
            "model_format": self.model_format,
            "xgboost_version": xgboost.__version__,
        }
        if isinstance(obj, xgboost.XGBModel):
            meta["params"], dropped = _metadata.estimator_params(obj)
            if dropped:
                meta["params_not_saved"] = dropped
                logger.warning("XgboostModelArtifact %r: not saving %s (not JSON); the loaded model "
                               "predicts with the saved trees but has no such parameters",
                               self.name, ", ".join(dropped))
        # The extension picks the format: XGBoost writes .json as JSON and .ubj as UBJSON.
        obj.save_model(os.path.join(path, model_file))
        _metadata.write(self._meta_file(path), meta)

    def _load(self, path: str) -> Any:
        xgboost = _metadata.import_xgboost()
        meta = _metadata.read(self._meta_file(path))
        cls = _metadata.resolve_class(meta.get("class", ""), xgboost)
        name = meta.get("model_file")
        if not isinstance(name, str) or os.path.basename(name) != name or not name:
            raise BundleError(f"{self._meta_file(path)} names an invalid model file {name!r}")
        model_file = os.path.join(path, name)
        if not os.path.isfile(model_file):
            raise BundleError(f"XgboostModelArtifact {self.name!r}: the model file {model_file} is missing")
        if issubclass(cls, xgboost.Booster):
            model = cls(model_file=model_file)
            if self.nthread is not None:
                model.set_param("nthread", self.nthread)
            return model
        self._uses_sklearn()
        params = dict(meta.get("params") or {})
        if self.nthread is not None:
            params["n_jobs"] = self.nthread
        model = cls(**params)
        model.load_model(model_file)
        return model
