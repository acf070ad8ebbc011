"""The decorators that declare a service: ``@env``, ``@artifacts`` and ``@api``.

Each records its declaration on the class (``_bento_env``, ``_bento_artifacts``,
a method's ``_bento_api_spec``); :class:`~bentoml.service.BentoService` reads
them when the class is defined and when an instance is made.
"""
from __future__ import annotations

import inspect
import os
from typing import Any, Callable, List, Optional, Sequence, Tuple

import attrs

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import InvalidArgument
from bentoml.service.inference_api import make_api_spec


@attrs.define
class ServiceEnv:
    """What ``@bentoml.env`` declares; paths are already resolved against the module's file."""

    auto_pip_dependencies: bool = False
    pip_dependencies: List[str] = attrs.field(factory=list)
    requirements_txt_file: Optional[str] = None
    conda_channels: List[str] = attrs.field(factory=list)
    conda_dependencies: List[str] = attrs.field(factory=list)
    setup_sh: Optional[str] = None  # the script's text
    docker_base_image: Optional[str] = None


def _module_dir(cls: type) -> str:
    try:
        return os.path.dirname(os.path.abspath(inspect.getfile(cls)))
    except (TypeError, OSError):  # defined interactively
        return os.getcwd()


def _str_list(name: str, value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"@env({name}=...) takes a list of strings, got {value!r}")
    return list(value)


def _read_setup_sh(base_dir: str, value: str) -> str:
    """``setup_sh`` is a path (relative to the module) or an inline script."""
    path = os.path.join(base_dir, os.path.expanduser(value))
    if "\n" not in value and os.path.isfile(path):
        with open(path) as f:
            return f.read()
    if "\n" not in value and (value.endswith(".sh") or (os.sep in value and " " not in value)):
        raise InvalidArgument(f"@env(setup_sh=...): script file {path} does not exist")
    return value if value.endswith("\n") else value + "\n"


def env(auto_pip_dependencies: bool = False, pip_dependencies: Optional[Sequence[str]] = None,
        requirements_txt_file: Optional[str] = None, conda_channels: Optional[Sequence[str]] = None,
        conda_dependencies: Optional[Sequence[str]] = None, setup_sh: Optional[str] = None,
        docker_base_image: Optional[str] = None, pip_packages: Optional[Sequence[str]] = None,
        ) -> Callable[[type], type]:
    """Declare the environment a service needs; see the spec's "Defining Service Environment".

    Relative paths (``requirements_txt_file``, ``setup_sh``) are relative to the
    file that defines the service class.  ``pip_packages`` is an alias of
    ``pip_dependencies``.
    """

    def decorator(cls: type) -> type:
        base = _module_dir(cls)
        req_file = None
        if requirements_txt_file:
            req_file = os.path.join(base, os.path.expanduser(requirements_txt_file))
            if not os.path.isfile(req_file):
                raise InvalidArgument(f"@env(requirements_txt_file=...): {req_file} does not exist")
        cls._bento_env = ServiceEnv(
            auto_pip_dependencies=bool(auto_pip_dependencies),
            pip_dependencies=_str_list("pip_dependencies", pip_dependencies) + _str_list("pip_packages", pip_packages),
            requirements_txt_file=req_file,
            conda_channels=_str_list("conda_channels", conda_channels),
            conda_dependencies=_str_list("conda_dependencies", conda_dependencies),
            setup_sh=_read_setup_sh(base, setup_sh) if setup_sh else None,
            docker_base_image=docker_base_image,
        )
        return cls

    return decorator


def artifacts(artifact_list: Sequence[BentoServiceArtifact]) -> Callable[[type], type]:
    """Declare the models a service packs: ``@artifacts([SklearnModelArtifact('model')])``."""
    items = list(artifact_list)
    for item in items:
        if not isinstance(item, BentoServiceArtifact):
            raise InvalidArgument(f"@artifacts takes artifact instances, got {item!r}")
    names = [a.name for a in items]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidArgument(f"@artifacts declares {', '.join(dupes)} more than once")

    def decorator(cls: type) -> type:
        cls._bento_artifacts = items
        return cls

    return decorator


def api(*args: Any, input: Any = None, output: Any = None, api_name: Optional[str] = None,
        mb_max_batch_size: Optional[int] = None, mb_max_latency: Optional[float] = None,
        mb_fixed_batch_size: Optional[int] = None, **legacy: Any) -> Callable[[Callable], Callable]:
    """Declare a method as an API: ``@bentoml.api(input=DataframeInput())``.

    The method keeps working as a plain method (``svc.predict(data)``); the
    server and the CLI call it with a batch built by the input adapter.
    ``mb_max_batch_size`` and ``mb_max_latency`` (ms) bound micro-batching;
    ``mb_fixed_batch_size`` pads every batch to that size (models with static shapes).
    """
    if legacy:
        raise InvalidArgument(f"@api() got unexpected options: {', '.join(sorted(legacy))}")
    if args:
        if len(args) > 1 or input is not None:
            raise InvalidArgument("@api() takes the input adapter once: @api(input=DataframeInput())")
        input = args[0]
    if input is None:
        raise InvalidArgument("@api() needs an input adapter: @api(input=DataframeInput())")

    def decorator(func: Callable) -> Callable:
        func._bento_api_spec = make_api_spec(func, input, output, api_name,
                                             mb_max_batch_size, mb_max_latency, mb_fixed_batch_size)
        return func

    return decorator


@attrs.frozen
class WebStaticContent:
    """What ``@bentoml.web_static_content`` declares: the folder as given, and where it may be."""

    declared: str
    #: in order: relative to the service's module, then (BentoML 0.8's base) the working directory
    candidates: Tuple[str, ...]

    @property
    def folder(self) -> Optional[str]:
        """The first candidate that is a folder (None when none is)."""
        return next((c for c in self.candidates if os.path.isdir(c)), None)


def web_static_content(path: str) -> Callable[[type], type]:
    """Bundle a folder of static files, a web UI for the service, and serve it at ``/``::

        @bentoml.web_static_content('./static')
        class IrisClassifier(bentoml.BentoService): ...

    ``path`` holds ``index.html`` (answered at ``/``; the docs page moves to
    ``/docs``) and whatever it links to.  A relative path is taken relative to
    the file that defines the service class, or else, as BentoML 0.8 took it,
    to the working directory.  ``save`` copies the folder into the bundle
    (symlinks copied as the files they point to); the API server serves only
    that copy.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).strip():
        raise InvalidArgument(f"@web_static_content takes the path of a folder, got {path!r}")
    declared = os.path.expanduser(os.fspath(path))

    def decorator(cls: type) -> type:
        if os.path.isabs(declared):
            candidates: Tuple[str, ...] = (os.path.normpath(declared),)
        else:
            candidates = tuple(dict.fromkeys(os.path.normpath(os.path.join(base, declared))
                                             for base in (_module_dir(cls), os.getcwd())))
        cls._bento_web_static_content = WebStaticContent(os.fspath(path), candidates)
        return cls

    return decorator
