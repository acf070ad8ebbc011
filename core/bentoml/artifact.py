"""Artifacts: how a trained model is packed, saved into a bundle and loaded back.

The base class does the checks and bookkeeping; a plugin fills in ``_pack``,
``_save`` and ``_load``.  Framework imports belong inside those methods so that
importing a plugin stays cheap.

Concrete classes come from plugins and are importable from this module by
name: ``from bentoml.artifact import SklearnModelArtifact`` looks the name up in
the plugin registry and, when no plugin registers it, raises an ImportError
naming the distribution to install.
"""
from __future__ import annotations

import abc
import copy
import os
import re
from typing import Any, Callable, ClassVar, Dict, Iterator, List, Optional, Sequence, Tuple

from bentoml.exceptions import ArtifactNotPacked, InvalidArgument, NotFound
from bentoml.plugins import module_getattr
from bentoml.schema import InputSchema

_ARTIFACT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BentoServiceArtifact(abc.ABC):
    """Base class of every artifact.

    Subclasses set:

    - ``requirement_imports``: top-level import names whose installed
      distributions a bundle must pin (``("sklearn",)`` pins ``scikit-learn``);
    - ``fork_safe``: may be loaded before the server forks workers;
    - ``thread_safe``: may be called from several threads at once;
    - ``conda_dependencies``: conda packages a bundle's ``environment.yml`` adds
      (``("openjdk",)``), after the service's own;
    - ``system_packages``: Debian packages a bundle's ``Dockerfile`` installs with
      apt-get (``("default-jre-headless",)``);

    may override :meth:`prepare_serving` to share one resource among all of a
    server's processes and :meth:`bad_input_message` to mark its framework's
    input-validation errors as bad input (HTTP 400), and implement ``_pack``
    (validate and keep the model), ``_save`` (write it under a directory of its
    own) and ``_load`` (read it back, returning the model).

    Example::

        class TextArtifact(BentoServiceArtifact):
            def _pack(self, obj):
                if not isinstance(obj, str):
                    raise InvalidArgument("TextArtifact packs a str")
                return obj
            def _save(self, obj, path):
                with open(os.path.join(path, "text.txt"), "w") as f:
                    f.write(obj)
            def _load(self, path):
                with open(os.path.join(path, "text.txt")) as f:
                    return f.read()
    """

    requirement_imports: ClassVar[Tuple[str, ...]] = ()
    fork_safe: ClassVar[bool] = True
    thread_safe: ClassVar[bool] = False
    conda_dependencies: ClassVar[Tuple[str, ...]] = ()
    system_packages: ClassVar[Tuple[str, ...]] = ()

    @classmethod
    def prepare_serving(cls) -> Optional[Callable[[], None]]:
        """Set up a resource that every process of an API server shares; return its release.

        An API server calls this once per artifact class of the service it
        serves, in its parent process, before it loads any artifact and before
        it forks workers: the place to start a JVM, a cache server or a GPU
        context that the workers then use.  Publish how to reach the resource
        in ``os.environ`` (the workers inherit it) and read it back in
        ``_load``.  Return a callable releasing the resource, or None.  The
        server calls it exactly once, in the parent, when it stops (also after a
        failed start); a worker that exits or is replaced never does.

        ``bentoml.load`` and ``bentoml run`` do not call it, so ``_load`` must
        also work without it (for example by starting a private resource).

        Example::

            @classmethod
            def prepare_serving(cls):
                proc = subprocess.Popen(["cache-server", "--port", "7700"])
                os.environ["MY_CACHE_URL"] = "http://127.0.0.1:7700"
                def release():
                    proc.terminate()
                    proc.wait(10)
                return release
        """
        return None

    @classmethod
    def bad_input_message(cls, exc: BaseException) -> Optional[str]:
        """A message for the client when ``exc`` is this framework refusing a model's input; else None.

        When an API function raises, the API server asks each artifact class
        of the service, in declaration order; the first message makes the
        answer a 400 (``"<Service> <api>: <message>"``), and an exception no
        class claims stays a 500 (a bug, logged with its traceback).  The API
        function may preprocess its input, so only the framework knows what its
        models take: recognize your framework's input checks by the exception's
        type *and* by where it was raised (:func:`bentoml.model_errors.raised_in`),
        so that a ``ValueError`` from the user's own code, or one the framework
        raises for another reason (a model that is not fitted), stays a 500.
        Name what is wrong in the client's terms (the feature count, the
        column, the value), on one line (:func:`bentoml.model_errors.one_line`),
        without tracebacks.  Must not raise; import nothing heavy (the
        framework is already imported if it raised).

        Example (scikit-learn's input checks)::

            @classmethod
            def bad_input_message(cls, exc):
                if isinstance(exc, ValueError) and raised_in(exc, "sklearn.utils.validation:check_array"):
                    return one_line(str(exc))
                return None
        """
        return None

    def __init__(self, name: str):
        if not isinstance(name, str) or not _ARTIFACT_NAME.fullmatch(name):
            raise InvalidArgument(
                f"artifact name {name!r} must be a Python identifier (letters, digits, _)")
        self._name = name
        self._obj: Any = None
        self._packed = False
        self._input_schema: Optional[InputSchema] = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def artifact_type(self) -> str:
        return type(self).__name__

    @property
    def is_packed(self) -> bool:
        return self._packed

    @property
    def input_schema(self) -> Optional[InputSchema]:
        """The columns the model takes, recorded from ``pack(..., input_example=...)``; None if not given."""
        return self._input_schema

    def pack(self, obj: Any, input_example: Any = None) -> "BentoServiceArtifact":
        """Validate ``obj`` and keep it as this artifact's model.

        :param input_example: optional rows of what the model takes (a pandas
            DataFrame, a 2-D numpy array or a list of rows), from which the
            column names and types are recorded as :attr:`input_schema` and
            saved in ``bentoml.yml`` (see :mod:`bentoml.schema`).  Packing
            again without one forgets the previous schema.
        """
        schema = None
        if input_example is not None:
            schema = InputSchema.infer(input_example, f"input_example of artifact {self._name!r}")
        self._obj = self._pack(obj)
        self._input_schema = schema
        self._packed = True
        return self

    def get(self) -> Any:
        """The packed or loaded model."""
        if not self._packed:
            raise ArtifactNotPacked(
                f"artifact {self._name!r} ({self.artifact_type}) is not packed; "
                f"call service.pack({self._name!r}, model) first")
        return self._obj

    def save(self, bundle_artifacts_dir: str) -> None:
        """Write the model under ``bundle_artifacts_dir/<name>/``."""
        path = os.path.join(bundle_artifacts_dir, self._name)
        os.makedirs(path, exist_ok=True)
        self._save(self.get(), path)

    def load(self, bundle_artifacts_dir: str) -> "BentoServiceArtifact":
        """Read the model back from ``bundle_artifacts_dir/<name>/``."""
        path = os.path.join(bundle_artifacts_dir, self._name)
        if not os.path.isdir(path):
            raise NotFound(f"artifact {self._name!r} has no saved files at {path}")
        self._obj = self._load(path)
        self._packed = True
        return self

    def fresh_copy(self) -> "BentoServiceArtifact":
        """An unpacked copy carrying this declaration's configuration."""
        clone = copy.copy(self)
        clone._obj, clone._packed, clone._input_schema = None, False, None
        return clone

    def _loaded_schema(self, schema: Optional[InputSchema]) -> None:
        """Take the input schema a bundle recorded for this artifact (``bentoml.yml``)."""
        self._input_schema = schema

    # -- for subclasses ----------------------------------------------------
    def _pack(self, obj: Any) -> Any:
        """Check ``obj`` (raise InvalidArgument naming the expected type) and return what to keep."""
        return obj

    @abc.abstractmethod
    def _save(self, obj: Any, path: str) -> None:
        """Write ``obj`` into the existing directory ``path``."""

    @abc.abstractmethod
    def _load(self, path: str) -> Any:
        """Read the model back from ``path`` and return it."""

    def __repr__(self) -> str:
        return f"{self.artifact_type}({self._name!r})"


_MIXED: Dict[Tuple[type, type], type] = {}


def with_mixin(model: Any, mixin: type) -> Any:
    """Give ``model`` the methods of ``mixin`` in place, keeping it its framework's own type.

    Its class becomes a subclass ``(mixin, type(model))`` (one per pair, cached)
    that carries the original class's name, qualname, module and docstring, so
    ``isinstance`` checks, reprs and the framework's own serialization still see
    the original.  For artifacts whose loaded models need a method adjusted
    (Keras's ``__call__``, which Python looks up on the class; H2O's
    ``predict``) where a wrapper object would fail the framework's type checks.
    Already mixed models are returned unchanged.
    """
    if isinstance(model, mixin):
        return model
    cls = type(model)
    mixed = _MIXED.get((mixin, cls))
    if mixed is None:
        mixed = _MIXED.setdefault((mixin, cls), type(cls.__name__, (mixin, cls), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}))
    # object.__setattr__: frameworks' own __setattr__ (Keras tracks attributes as state) stay out of it.
    object.__setattr__(model, "__class__", mixed)
    return model


class ArtifactCollection:
    """``service.artifacts``: attribute access returns the packed model itself.

    ``self.artifacts.model.predict(df)`` calls the model's own method; the
    artifact wrappers are reachable with ``self.artifacts["model"]``.
    """

    def __init__(self, artifacts: Sequence[BentoServiceArtifact]):
        self._artifacts: Dict[str, BentoServiceArtifact] = {a.name: a for a in artifacts}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._artifacts[name].get()
        except KeyError:
            raise AttributeError(
                f"no artifact named {name!r}; declared: {', '.join(self._artifacts) or 'none'}"
            ) from None

    def __getitem__(self, name: str) -> BentoServiceArtifact:
        try:
            return self._artifacts[name]
        except KeyError:
            raise NotFound(
                f"no artifact named {name!r}; declared: {', '.join(self._artifacts) or 'none'}"
            ) from None

    def __iter__(self) -> Iterator[BentoServiceArtifact]:
        return iter(self._artifacts.values())

    def __len__(self) -> int:
        return len(self._artifacts)

    def __contains__(self, name: object) -> bool:
        return name in self._artifacts

    def names(self) -> List[str]:
        return list(self._artifacts)


__getattr__ = module_getattr("artifacts", __name__)
