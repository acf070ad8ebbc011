"""Hook specifications: the only extension points of the kernel.

Every integration (an ML framework, an input format, a storage system, a
deployment target) is a plugin distribution that declares one entry point in
the group ``bentoml`` pointing at a module or object carrying ``@hookimpl``
functions.  Each hook is *registration style*: it receives a ``register``
callback and calls it once per class it provides (``register_commands``
receives a click group to add commands to instead).  The kernel owns the
registries, so a name claimed by two distributions is reported when that name is
looked up, naming both, and breaks nothing else.  A ``@hookimpl`` whose name
matches no hook here is reported too, and its plugin skipped.

A complete artifact plugin::

    # bentoml_example/__init__.py
    from bentoml.hookspecs import hookimpl
    from bentoml.artifact import BentoServiceArtifact

    class ExampleArtifact(BentoServiceArtifact):
        ...

    @hookimpl
    def register_artifacts(register):
        register(ExampleArtifact)  # legacy_paths=("bentoml.frameworks.example",) for 0.x users

    # pyproject.toml
    [project.entry-points.bentoml]
    example = "bentoml_example"
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Protocol, Sequence

import pluggy

if TYPE_CHECKING:
    import click

#: The pluggy project name and the entry point group, one name for both.
NAME = "bentoml"

hookspec = pluggy.HookspecMarker(NAME)
hookimpl = pluggy.HookimplMarker(NAME)


class Register(Protocol):
    """The callback each registration hook receives.

    :param obj: the class (or factory) to register.
    :param name: the public name; defaults to ``obj.__name__``. For storage
        backends it is a URL scheme (``"file"``, ``"s3"``).
    :param legacy_paths: where BentoML 0.x users import the class from, so their
        services run unchanged: ``"bentoml.frameworks.sklearn"`` (the class under
        ``name``) or ``"bentoml.handlers:DataframeHandler"`` (under a 0.x name).
        The kernel serves these modules (:mod:`bentoml.legacy_modules`); a module
        of the kernel itself cannot be one.
    """

    def __call__(self, obj: object, name: Optional[str] = None, legacy_paths: Sequence[str] = ()) -> None: ...


@hookspec
def register_artifacts(register: Register) -> None:
    """Register :class:`bentoml.artifact.BentoServiceArtifact` subclasses.

    Registered names become importable from ``bentoml.artifact``, so
    ``from bentoml.artifact import SklearnModelArtifact`` works.

    :param register: call ``register(ArtifactClass)`` once per class.
    """


@hookspec
def register_input_adapters(register: Register) -> None:
    """Register :class:`bentoml.adapters.InputAdapter` subclasses.

    Registered names become importable from ``bentoml.adapters``.

    :param register: call ``register(AdapterClass)`` once per class.
    """


@hookspec
def register_output_adapters(register: Register) -> None:
    """Register :class:`bentoml.adapters.OutputAdapter` subclasses.

    :param register: call ``register(AdapterClass)`` once per class.
    """


@hookspec
def register_storage_backends(register: Register) -> None:
    """Register :class:`bentoml.repository.storage.StorageBackend` classes by URL scheme.

    The repository picks the backend whose scheme matches its base URL
    (``/home/me/bentoml/repository`` is scheme ``file``; ``s3://bucket/x`` is ``s3``).

    :param register: call ``register(BackendClass, "scheme")`` once per scheme.
    """


@hookspec
def register_deployers(register: Register) -> None:
    """Register :class:`bentoml.deployer.Deployer` subclasses (Docker, Kubernetes, Spark) by target name.

    :param register: call ``register(DeployerClass, "target")`` once per target
        (the name is the class's ``name``).
    """


@hookspec
def register_commands(cli: "click.Group") -> None:
    """Add commands to the ``bentoml`` command line (``bentoml containerize``, ``bentoml batch``).

    Define them on ``cli`` as on any click group::

        @hookimpl
        def register_commands(cli):
            @cli.command()
            @click.argument("bento")
            def containerize(bento):
                ...  # its docstring is its help text, as in any click command

    The commands are listed by ``bentoml --help`` and ``bentoml plugins``.  The
    kernel's own commands win over a plugin's of the same name, and a name two
    plugins add is an error naming both when it is run.

    A kernel group that takes plugin subcommands (:data:`PLUGIN_COMMAND_GROUPS`:
    ``bentoml deploy TARGET``) is already in ``cli``; add to it, so that many
    plugins share one ``deploy`` and each adds only its target::

        @hookimpl
        def register_commands(cli):
            @cli.commands["deploy"].command("kubernetes")
            def kubernetes():
                ...  # bentoml deploy kubernetes; registered as "deploy kubernetes"

    :param cli: a click group that collects this plugin's commands.
    """


#: Registry kind for each hook, in the order ``bentoml plugins`` shows them.
REGISTRATION_HOOKS = {
    "artifacts": "register_artifacts",
    "input_adapters": "register_input_adapters",
    "output_adapters": "register_output_adapters",
    "storage_backends": "register_storage_backends",
    "deployers": "register_deployers",
}

#: The hook whose implementations receive a click group instead of ``register``, and its kind.
COMMAND_HOOK = "register_commands"
COMMANDS_KIND = "commands"
#: Kernel command groups whose subcommands plugins add (``bentoml deploy kubernetes``); a
#: subcommand is registered under ``"GROUP NAME"`` (``"deploy kubernetes"``).
PLUGIN_COMMAND_GROUPS = ("deploy",)


def hook_names() -> List[str]:
    """Every hook a plugin may implement."""
    return [*REGISTRATION_HOOKS.values(), COMMAND_HOOK]
