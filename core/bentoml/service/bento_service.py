"""``BentoService``: the base class of prediction services."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple

from bentoml.artifact import ArtifactCollection, BentoServiceArtifact
from bentoml.bundle.checks import fresh_version
from bentoml.bundle.naming import validate_version
from bentoml.exceptions import InvalidArgument, NotFound
from bentoml.service.decorators import ServiceEnv, WebStaticContent
from bentoml.service.inference_api import APISpec, InferenceAPI

if TYPE_CHECKING:
    from bentoml.bundle.layout import BundleLocation
    from bentoml.schema import InputSchema

logger = logging.getLogger(__name__)


class BentoService:
    """Base class of prediction services.

    Subclass it, declare artifacts, environment and APIs with the decorators,
    ``pack`` trained models, then ``save()`` a versioned bundle::

        @bentoml.env(auto_pip_dependencies=True)
        @bentoml.artifacts([SklearnModelArtifact('model')])
        class IrisClassifier(bentoml.BentoService):
            @bentoml.api(input=DataframeInput())
            def predict(self, df):
                return self.artifacts.model.predict(df)
    """

    _bento_env: ServiceEnv = ServiceEnv()
    _bento_artifacts: List[BentoServiceArtifact] = []
    _bento_api_specs: Dict[str, APISpec] = {}
    _bento_api_funcs: Dict[str, Callable] = {}
    _bento_web_static_content: Optional[WebStaticContent] = None
    #: (major, minor) from ``@bentoml.ver``, or None
    _bento_ver: Optional[Tuple[int, int]] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = dict(cls._bento_api_specs)
        funcs = dict(cls._bento_api_funcs)
        for attr, value in vars(cls).items():
            spec = getattr(value, "_bento_api_spec", None)
            if spec is not None:
                specs[spec.name] = spec
                funcs[spec.name] = value
        _check_paths_unique(cls.__name__, specs.values())
        cls._bento_api_specs, cls._bento_api_funcs = specs, funcs

    def __init__(self) -> None:
        self._artifacts = ArtifactCollection([a.fresh_copy() for a in type(self)._bento_artifacts])
        self._bundle: Optional["BundleLocation"] = None  # the bundle saved to or loaded from
        self._next_version: Optional[str] = None  # from set_version, for the next save
        self._apis = {name: InferenceAPI(self, spec, type(self)._bento_api_funcs[name])
                      for name, spec in type(self)._bento_api_specs.items()}

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def version(self) -> Optional[str]:
        """The version :meth:`set_version` gave for the next save, else the version of the bundle
        this instance was saved to or loaded from, else None."""
        if self._next_version is not None:
            return self._next_version
        return self._bundle.version if self._bundle is not None else None

    @property
    def env(self) -> ServiceEnv:
        """What ``@bentoml.env`` declared (as BentoML 0.x's ``svc.env``)."""
        return type(self)._bento_env

    def set_version(self, version_str: Optional[str] = None) -> str:
        """Choose the version the next :meth:`save` uses (BentoML 0.8); returns it.

        With ``@bentoml.ver(major, minor)`` the version is ``MAJOR.MINOR.version_str``;
        without ``version_str`` a new ``YYYYMMDDHHMMSS_XXXXXX`` is generated.
        Versions use letters, digits, ``_``, ``-`` and ``.``; ``latest`` is refused.
        """
        if version_str is None:
            version = fresh_version(self)
        else:
            version = self._with_declared_version(version_str)
        self._next_version = validate_version(version)
        return self._next_version

    def _with_declared_version(self, version: str) -> str:
        """``version`` as PATCH of ``@ver``'s ``MAJOR.MINOR`` (as 0.8's ``save(version=...)``)."""
        if not isinstance(version, str):
            raise InvalidArgument(f"a version is a string, got {version!r}")
        declared = type(self)._bento_ver
        return f"{declared[0]}.{declared[1]}.{version}" if declared else version

    def _version_to_save(self, version: Optional[str]) -> Optional[str]:
        if version is not None:
            return self._with_declared_version(version)
        return self._next_version

    @property
    def artifacts(self) -> ArtifactCollection:
        return self._artifacts

    @property
    def inference_apis(self) -> List[InferenceAPI]:
        return list(self._apis.values())

    @property
    def web_static_content(self) -> Optional[str]:
        """The folder ``@bentoml.web_static_content`` declared, as declared (None without one)."""
        declared = type(self)._bento_web_static_content
        return declared.declared if declared is not None else None

    def get_web_static_content_path(self) -> Optional[str]:
        """The web UI folder the API server serves: the bundle's copy once saved or loaded,
        else the declared folder (None without one, or when it does not exist)."""
        declared = type(self)._bento_web_static_content
        if declared is None:
            return None
        return self._bundle.web_static_content_dir if self._bundle is not None else declared.folder

    def get_inference_api(self, name: str) -> InferenceAPI:
        try:
            return self._apis[name]
        except KeyError:
            raise NotFound(
                f"{self.name} has no API named {name!r}; APIs: {', '.join(self._apis) or 'none'}"
            ) from None

    def pack(self, name: str, obj: Any, input_example: Any = None) -> "BentoService":
        """Give the artifact ``name`` its trained model; returns the service.

        :param input_example: optional rows of what the model takes (a pandas
            DataFrame, a 2-D numpy array or a list of rows).  Their column
            names and types are saved with the artifact in ``bentoml.yml``,
            and when exactly one artifact of the service has such a schema,
            every API whose input adapter takes one (``DataframeInput``
            declared without ``columns`` or ``input_dtypes``) checks requests
            against it before the API function runs (400 naming the column,
            width or type) and shows it, with the example's first row, in the
            OpenAPI document (``/docs.json``).  See :mod:`bentoml.schema`.
        """
        if name not in self._artifacts:
            declared = ", ".join(self._artifacts.names()) or "none (use @bentoml.artifacts)"
            raise InvalidArgument(f"{self.name} declares no artifact named {name!r}; declared: {declared}")
        self._artifacts[name].pack(obj, input_example=input_example)
        return self

    def _api_input_schema(self) -> Optional["InputSchema"]:
        """The schema the APIs take: that of the one artifact that has one (None with none, or several)."""
        found = None
        for artifact in self._artifacts:
            if artifact.input_schema is not None:
                if found is not None:
                    return None  # which model each API feeds is the API function's secret
                found = artifact.input_schema
        return found

    def save(self, version: Optional[str] = None) -> str:
        """Save a bundle into the repository (``$BENTOML_HOME``) and return its local path."""
        from bentoml.bundle.layout import BundleLocation
        from bentoml.repository import get_repository

        path = get_repository().save(self, version=self._version_to_save(version))
        self._bundle, self._next_version = BundleLocation.read(path), None
        logger.info("Saved %s:%s to %s", self.name, self._bundle.version, path)
        return path

    def save_to_dir(self, path: str, version: Optional[str] = None) -> str:
        """Write this service as a bundle into ``path`` (created; must be empty); returns its path."""
        from bentoml.bundle.save import save_to_dir

        self._bundle = save_to_dir(self, path, version=self._version_to_save(version))
        self._next_version = None
        logger.info("Saved %s:%s to %s", self.name, self._bundle.version, self._bundle.path)
        return self._bundle.path

    @classmethod
    def _loaded_from(cls, bundle: "BundleLocation",
                     input_schemas: Optional[Dict[str, "InputSchema"]] = None) -> "BentoService":
        """A new instance that belongs to ``bundle``; its artifacts load with :meth:`load_artifacts`.

        :param input_schemas: the artifacts' input schemas recorded in the bundle, by name.
        """
        service = cls()
        service._bundle = bundle
        for name, schema in (input_schemas or {}).items():
            if name in service._artifacts:
                service._artifacts[name]._loaded_schema(schema)
        return service

    def load_artifacts(self, artifact_filter: Optional[Callable[[BentoServiceArtifact], bool]] = None) -> None:
        """Load the models of the artifacts not loaded yet from the bundle this instance was
        loaded from: all of them, or those ``artifact_filter`` accepts (the others stay
        for a later call, e.g. after a server forks its workers)."""
        if self._bundle is None:
            raise InvalidArgument(f"{self.name} was not loaded from a bundle; pack its artifacts instead")
        for artifact in self._artifacts:
            if not artifact.is_packed and (artifact_filter is None or artifact_filter(artifact)):
                artifact.load(self._bundle.artifacts_dir)

    def __repr__(self) -> str:
        return f"<{self.name}:{self.version or 'unsaved'}>"


def _check_paths_unique(service_name: str, specs: Iterable[APISpec]) -> None:
    """Two APIs answered at one URL path (``@api(route=...)``) is a declaration error."""
    seen: Dict[str, str] = {}
    for spec in specs:
        other = seen.setdefault(spec.path, spec.name)
        if other != spec.name:
            raise InvalidArgument(f"{service_name}: APIs {other!r} and {spec.name!r} are both served at "
                                  f"{spec.path}; give one of them another route= or api_name=")
