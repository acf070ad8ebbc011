"""H2oModelArtifact: an H2O-3 model saved in H2O's binary format."""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional

from bentoml.artifact import BentoServiceArtifact
from bentoml.model_errors import one_line, raised_in
from bentoml.exceptions import BentoMLException, BundleError, InvalidArgument

from bentoml_h2o import cluster
from bentoml_h2o.frames import accept_pandas, rejected_input

MODEL_FILE = "model.h2o"
INFO_FILE = "h2o_model.json"


class H2oModelArtifact(BentoServiceArtifact):
    """A trained H2O-3 model (any ``h2o.model.ModelBase``: GBM, GLM, DRF, AutoML's leader...).

    Saved with ``h2o.save_model`` and loaded with ``h2o.load_model`` (through
    ``download_model``/``upload_model`` when the H2O runs on another machine).
    H2O loads a binary model only with the H2O version that saved it; a bundle
    pins that version and loading elsewhere names both versions.

    Where the model is loaded: an API server starts one local H2O (Java) for all
    its workers, bound to 127.0.0.1 and sized by ``BENTOML_H2O_NTHREADS`` and
    ``BENTOML_H2O_MAX_MEM``, and stops it when it exits; ``bentoml.load`` and
    ``bentoml run`` use this process's H2O connection, else the H2O named by
    ``BENTOML_H2O_URL``, else start a local one (``h2o.init``).  Set
    ``BENTOML_H2O_URL`` for a server too to make it use an H2O you run.

    Example::

        @bentoml.env(pip_dependencies=["pandas", "h2o"])
        @bentoml.artifacts([H2oModelArtifact("model")])
        class IrisClassifier(bentoml.BentoService):

            @bentoml.api(input=DataframeInput())
            def predict(self, df):
                return predict_dataframe(self.artifacts.model, df)["predict"]

        svc.pack("model", gbm)   # after gbm.train(...)

    ``self.artifacts.model`` is the H2O model itself, whose ``predict`` also
    takes a pandas DataFrame (see :class:`bentoml_h2o.frames.AcceptsPandas`), so
    the spec's ``return self.artifacts.model.predict(df)`` works as written;
    :func:`bentoml_h2o.predict_dataframe` does the same with options, uploading
    with the training column types and removing the frames it made.
    """

    requirement_imports = ("h2o",)
    fork_safe = False  # an H2O client connection (a requests session) must be opened after the fork
    # H2O needs Java, which pip cannot install: ask conda and the Docker image for one.
    conda_dependencies = ("openjdk",)
    system_packages = ("default-jre-headless",)

    @classmethod
    def prepare_serving(cls) -> Optional[Callable[[], None]]:
        """Start the one H2O that all of an API server's workers load their models into."""
        return cluster.start_for_server()

    @classmethod
    def bad_input_message(cls, exc: BaseException) -> Optional[str]:
        """H2O refusing to score a frame the API function built (``model.predict(h2o_frame)``).

        The DataFrame path (``model.predict(df)``, :func:`~bentoml_h2o.predict_dataframe`)
        checks the columns itself and raises ``BadInput``; a scoring job that the API
        function started fails in ``h2o.job`` with the Java ``IllegalArgumentException``
        naming the column ("Test/Validation dataset has categorical column 'x' which is
        real-valued in the training data").
        """
        if raised_in(exc, "h2o.job") and raised_in(exc, "h2o.model"):
            rejected = rejected_input(exc)
            return one_line(rejected) if rejected else None
        return None

    def _pack(self, obj: Any) -> Any:
        import h2o.model

        if isinstance(obj, h2o.model.ModelBase) and not isinstance(obj, type):
            # An estimator before train() is a ModelBase too, with no model in a cluster
            # (model_id may already be the one it was given).
            if not obj.model_id or getattr(obj, "_model_json", None) is None:
                raise InvalidArgument(f"H2oModelArtifact {self.name!r}: the H2O model has not been "
                                      "trained; call its train(...) method before packing it")
            return accept_pandas(obj)
        what = obj if isinstance(obj, type) else type(obj)
        raise InvalidArgument(
            f"H2oModelArtifact {self.name!r} packs a trained H2O model (h2o.model.ModelBase, such as "
            f"H2OGradientBoostingEstimator after train()); got {what.__module__}.{what.__qualname__}")

    def _save(self, obj: Any, path: str) -> None:
        import h2o
        from h2o.exceptions import H2OError

        try:
            if cluster.shares_our_files():
                h2o.save_model(obj, path=path, filename=MODEL_FILE, force=True)
            else:
                h2o.download_model(obj, path=path, filename=MODEL_FILE)
            version = h2o.cluster().version
        except (H2OError, OSError) as exc:
            raise BentoMLException(f"cannot save H2O model {obj.model_id!r} of artifact {self.name!r}: "
                                   f"{cluster.first_line(exc)} (is the H2O it was trained in still running?)"
                                   ) from None
        with open(os.path.join(path, INFO_FILE), "w") as f:
            json.dump({"model_id": obj.model_id, "file": MODEL_FILE, "h2o_version": version}, f)

    def _load(self, path: str) -> Any:
        import h2o
        from h2o.exceptions import H2OError, H2OResponseError

        try:
            with open(os.path.join(path, INFO_FILE)) as f:
                info = json.load(f)
            model_id, saved_with = info["model_id"], info["h2o_version"]
            model_file = os.path.join(path, info.get("file", MODEL_FILE))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"artifact {self.name!r}: {path} holds no readable H2O model ({exc})") from None
        cluster.connect()
        running = h2o.cluster().version
        if str(running) != str(saved_with):
            raise BentoMLException(
                f"artifact {self.name!r} is an H2O {saved_with} model but the H2O at "
                f"{h2o.connection().base_url} is version {running}; H2O loads binary models only in the "
                f"version that saved them (install h2o=={saved_with})")
        try:
            with cluster.exclusive_model_loading():
                if cluster.dedicated_to_this_server():
                    try:  # a sibling worker loaded it already: use it, never replace it under them
                        return accept_pandas(h2o.get_model(model_id))
                    except H2OResponseError:
                        pass
                if cluster.shares_our_files():
                    return accept_pandas(h2o.load_model(model_file))
                return accept_pandas(h2o.upload_model(model_file))
        except H2OError as exc:
            raise BentoMLException(f"H2O could not load artifact {self.name!r} from {model_file}: "
                                   f"{cluster.first_line(exc)}") from None
