"""The decorators that declare a service: ``@env``, ``@artifacts`` and ``@api``.

Each records its declaration on the class (``_bento_env``, ``_bento_artifacts``,
a method's ``_bento_api_spec``); :class:`~bentoml.service.BentoService` reads
them when the class is defined and when an instance is made.
"""
from __future__ import annotations

import difflib
import inspect
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import attrs

from bentoml.adapters.input_adapter import InputAdapter
from bentoml.artifact import BentoServiceArtifact
from bentoml.bundle.loading import bundle_being_loaded
from bentoml.exceptions import InvalidArgument
from bentoml.service import env_options
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
    pip_index_url: Optional[str] = None
    pip_extra_index_urls: List[str] = attrs.field(factory=list)
    pip_trusted_hosts: List[str] = attrs.field(factory=list)
    conda_env: Optional[Dict[str, Any]] = None  # the content of conda_env_yml_file
    conda_override_channels: bool = False
    zipimport_archives: List[str] = attrs.field(factory=list)  # absolute paths


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


#: keywords of BentoML before 0.8 that a service may still carry, and what they are called now
_ENV_RENAMED = {"conda_pip_dependencies": "pip_dependencies"}


def env(auto_pip_dependencies: bool = False, pip_dependencies: Optional[Sequence[str]] = None,
        requirements_txt_file: Optional[str] = None, conda_channels: Optional[Sequence[str]] = None,
        conda_dependencies: Optional[Sequence[str]] = None, setup_sh: Optional[str] = None,
        docker_base_image: Optional[str] = None, pip_packages: Optional[Sequence[str]] = None,
        infer_pip_packages: bool = False, pip_index_url: Optional[str] = None,
        pip_extra_index_url: Union[None, str, Sequence[str]] = None,
        pip_trusted_host: Union[None, str, Sequence[str]] = None, conda_env_yml_file: Optional[str] = None,
        conda_overwrite_channels: bool = False, conda_override_channels: bool = False,
        zipimport_archives: Optional[Sequence[str]] = None, **unknown: Any) -> Callable[[type], type]:
    """Declare the environment a service needs; see the spec's "Defining Service Environment".

    Relative paths (``requirements_txt_file``, ``setup_sh``, ``conda_env_yml_file``,
    ``zipimport_archives``) are relative to the file that defines the service
    class.  The spellings of BentoML 0.9-0.13 work too:

    - ``pip_packages`` is ``pip_dependencies``, ``infer_pip_packages`` is
      ``auto_pip_dependencies``;
    - ``pip_index_url``, ``pip_extra_index_url`` and ``pip_trusted_host`` (a
      string or a list) become ``--index-url``, ``--extra-index-url`` and
      ``--trusted-host`` lines of the bundle's ``requirements.txt``, which its
      Dockerfile installs (``pip install BUNDLE`` takes them on its own command line);
    - ``conda_env_yml_file`` is the base of the bundle's ``environment.yml``:
      ``conda_channels`` replace its channels, ``conda_dependencies`` come
      before its dependencies; ``conda_override_channels`` (0.13) or
      ``conda_overwrite_channels`` uses only the given channels (``nodefaults``);
    - ``zipimport_archives``: zip archives of Python modules, copied into the
      bundle (``<Name>/zipimports/``) and put on ``sys.path`` when it loads.
    """
    if unknown:  # a typo, or a keyword of a BentoML release outside 0.8-0.13 (0.5's conda_pip_dependencies)
        raise _unexpected_options("@env()", list(unknown), [p for p in inspect.signature(env).parameters
                                                             if p != "unknown"], renamed=_ENV_RENAMED)
    override = bool(conda_overwrite_channels or conda_override_channels)
    channels = _str_list("conda_channels", conda_channels)
    if override and not channels:
        raise InvalidArgument("@env(conda_override_channels=True) needs conda_channels: the only channels to use")
    index = env_options.index_url("pip_index_url", pip_index_url)
    extra_indexes = env_options.index_urls("pip_extra_index_url", pip_extra_index_url)
    hosts = env_options.trusted_hosts(pip_trusted_host)

    def decorator(cls: type) -> type:
        base = _module_dir(cls)
        # A bundle's copy of the module runs without the files next to it: the bundle holds
        # what they gave (see bentoml.bundle.loading).
        in_bundle = bundle_being_loaded() is not None
        req_file = None
        if requirements_txt_file:
            req_file = os.path.join(base, os.path.expanduser(requirements_txt_file))
            if not os.path.isfile(req_file) and not in_bundle:
                raise InvalidArgument(f"@env(requirements_txt_file=...): {req_file} does not exist")
        conda_env = None
        if conda_env_yml_file and not in_bundle:
            conda_env = env_options.read_conda_env_file(os.path.join(base, os.path.expanduser(conda_env_yml_file)))
        cls._bento_env = ServiceEnv(
            auto_pip_dependencies=bool(auto_pip_dependencies or infer_pip_packages),
            pip_dependencies=_str_list("pip_dependencies", pip_dependencies) + _str_list("pip_packages", pip_packages),
            requirements_txt_file=req_file,
            conda_channels=channels,
            conda_dependencies=_str_list("conda_dependencies", conda_dependencies),
            setup_sh=_read_setup_sh(base, setup_sh) if setup_sh and not in_bundle else None,
            docker_base_image=docker_base_image,
            pip_index_url=index, pip_extra_index_urls=extra_indexes, pip_trusted_hosts=hosts,
            conda_env=conda_env, conda_override_channels=override,
            zipimport_archives=[] if in_bundle else env_options.zipimport_archives(base, zipimport_archives),
        )
        return cls

    return decorator


def ver(major: int, minor: int) -> Callable[[type], type]:
    """BentoML 0.8's semantic versions: ``@bentoml.ver(1, 4)`` makes versions ``1.4.PATCH``.

    PATCH is the generated ``YYYYMMDDHHMMSS_XXXXXX``, or the string given to
    ``svc.set_version(...)`` or ``svc.save(version=...)``::

        @bentoml.ver(major=1, minor=4)
        class MyService(bentoml.BentoService): ...

        svc.set_version("2019-08.iteration20")   # -> "1.4.2019-08.iteration20"
    """
    for what, number in (("major", major), ("minor", minor)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise InvalidArgument(f"@ver({what}=...) must be a non-negative int, got {number!r}")

    def decorator(cls: type) -> type:
        cls._bento_ver = (major, minor)
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


#: The keywords ``@api`` takes itself (besides the adapter in the 0.7-0.8 form).
API_OPTIONS = ("input", "output", "api_name", "api_doc", "mb_max_batch_size", "mb_max_latency",
               "mb_fixed_batch_size", "batch", "route")


def _constructor_options(cls: type) -> Optional[List[str]]:
    """The keyword parameters of ``cls``'s constructor; None when it takes any (``**kwargs``)."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _unexpected_options(where: str, options: Sequence[str], known: Sequence[str],
                        adapter: Optional[InputAdapter] = None,
                        renamed: Optional[Dict[str, str]] = None) -> InvalidArgument:
    """The error for keywords nobody takes, suggesting the nearest known one for each (a typo),
    or what an old release's keyword is called now (``renamed``)."""
    adapter_options = (_constructor_options(type(adapter)) or []) if adapter is not None else []
    described = []
    for key in sorted(options):
        if key in adapter_options:
            described.append(f"{key!r} (an option of {type(adapter).__name__}: "
                             f"input={type(adapter).__name__}(..., {key}=...))")
            continue
        close = [renamed[key]] if renamed and key in renamed else \
            difflib.get_close_matches(key, [*known, *adapter_options], n=1, cutoff=0.6)
        described.append(f"{key!r}" + (f"; did you mean {close[0]!r}?" if close else ""))
    if len(described) == 1:
        return InvalidArgument(f"{where} got an unexpected option {described[0]}")
    return InvalidArgument(f"{where} got unexpected options {', '.join(described)}")


def _input_adapter(args: tuple, input: Any, adapter_options: Dict[str, Any]) -> Any:
    """The API's input adapter: ``input=``, an adapter instance given positionally, or (BentoML
    0.7-0.8) an adapter class given positionally and built with the remaining arguments and
    the keywords ``@api`` does not take itself: ``@api(DataframeHandler, typ="series")``."""
    if not args:
        if adapter_options:
            raise _unexpected_options("@api()", list(adapter_options), API_OPTIONS,
                                      input if isinstance(input, InputAdapter) else None)
        return input
    first, rest = args[0], args[1:]
    if input is not None:
        raise InvalidArgument("@api() takes the input adapter once: @api(input=DataframeInput())")
    if not (isinstance(first, type) and issubclass(first, InputAdapter)):
        if rest or adapter_options:
            raise InvalidArgument(f"@api() takes one input adapter before its keywords, got {args!r}")
        return first
    where = f"@api({first.__name__}, ...)"
    accepted = _constructor_options(first)
    if accepted is not None:
        unknown = [key for key in adapter_options if key not in accepted]
        if unknown:
            raise _unexpected_options(where, unknown, [*API_OPTIONS, *accepted])
    try:
        inspect.signature(first).bind(*rest, **adapter_options)
    except TypeError as exc:
        raise InvalidArgument(f"{where}: {first.__name__}() {exc}") from None
    return first(*rest, **adapter_options)


def api(*args: Any, input: Any = None, output: Any = None, api_name: Optional[str] = None,
        api_doc: Optional[str] = None, mb_max_batch_size: Optional[int] = None,
        mb_max_latency: Optional[float] = None, mb_fixed_batch_size: Optional[int] = None,
        batch: Optional[bool] = None, route: Optional[str] = None,
        **adapter_options: Any) -> Callable[[Callable], Callable]:
    """Declare a method as an API: ``@bentoml.api(input=DataframeInput())``.

    The method keeps working as a plain method (``svc.predict(data)``); the
    server and the CLI call it with a batch built by the input adapter (a list,
    or a DataFrame of all rows), and it returns one result per input.
    ``batch=False`` (BentoML 0.10-0.13) makes it take one input and return one
    result: requests are still micro-batched, and the kernel calls the
    function once per input of the batch.  Without ``batch=`` an API takes a
    batch, as the spec says; a 0.10-0.13 service that relied on 0.x's implicit
    ``batch=False`` must say ``batch=False``.  Adapters whose requests may carry
    several inputs (``DataframeInput``, ``TfTensorInput``) always pass a batch.

    ``mb_max_batch_size`` and ``mb_max_latency`` (ms) bound micro-batching;
    ``mb_fixed_batch_size`` pads every batch to that size (models with static
    shapes); ``api_doc`` replaces the method's docstring as the API's
    documentation; ``route`` (BentoML 0.13) serves the API at ``/<route>``
    (``route="v1/predict"``) instead of ``/<api_name>``.  BentoML 0.7-0.8's ``@api(DataframeHandler, typ="series")``
    (an adapter class and its options) builds the adapter.  An unknown keyword
    is an error that suggests the option meant.
    """
    input = _input_adapter(args, input, adapter_options)
    if input is None:
        raise InvalidArgument("@api() needs an input adapter: @api(input=DataframeInput())")

    def decorator(func: Callable) -> Callable:
        func._bento_api_spec = make_api_spec(func, input, output, api_name,
                                             mb_max_batch_size, mb_max_latency, mb_fixed_batch_size,
                                             batch=batch, api_doc=api_doc, route=route)
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
