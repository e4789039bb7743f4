"""The plugin registry: injectors, probes, channels and scorers, found through entry points.

Built-ins register exactly like third-party packages do (``[project.entry-points]`` in
pyproject.toml), and the entry-point name is the YAML ``kind``. Only the kinds a scenario names
are loaded, and a plugin's heavy dependencies are imported inside its methods, so
``kunren --help`` stays fast. The installed distributions are scanned once per process, for
every kunren group at once, and only when a command first asks for a plugin (each scan reads
every installed package's ``entry_points.txt``: a few milliseconds per group otherwise).

A ``Group`` names an entry-point group together with the base class its plugins must derive
from, so ``load(group, name)`` returns a checked ``type[Base]``, never ``Any``. The groups here
are typed by ``Plugin`` (this module is the ground floor and knows no base class above it);
each plugin package declares its own typed group beside its base class
(``kunren.injectors.base.INJECTORS`` loads ``type[Injector]``).

A plugin's parameters are a pydantic model. A base class generic in it (``Injector[P]``) gives
the subclass both its ``Params`` and the static type of ``self.params``:
``class HttpFault(Injector[HttpFaultParams])`` needs no ``Params = …`` line and no
``isinstance`` check; the scenario loader validates the parameters once, with file:line errors.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict

from kunren.errors import NotAvailableError, PluginError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


class NoParams(BaseModel):
    """The parameters of a plugin that takes none: any key given is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Plugin:
    """What every plugin class declares about itself."""

    Params: ClassVar[type[BaseModel]] = NoParams
    extra: ClassVar[str | None] = None  # the kunren extra that brings its dependencies
    requires: ClassVar[tuple[str, ...]] = ()  # importable modules it needs
    summary: ClassVar[str] = ""  # one line for `kunren plugins` (default: the docstring's)
    available: ClassVar[bool] = True  # False: registered and validated, not usable yet
    test_double: ClassVar[bool] = False  # for tests only: `kunren plugins` hides it (--all)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = _params_argument(cls)
        if model is None:
            return
        if "Params" not in vars(cls):
            cls.Params = model
        elif not issubclass(cls.Params, model):
            raise TypeError(
                f"{cls.__name__}.Params is {cls.Params.__name__}, "
                f"but the class is declared with {model.__name__}"
            )

    @classmethod
    def missing_requirements(cls) -> list[str]:
        return [name for name in cls.requires if importlib.util.find_spec(name) is None]

    @classmethod
    def ensure_installed(cls, kind: str) -> None:
        missing = cls.missing_requirements()
        if missing:
            hint = f": pip install 'kunren[{cls.extra}]'" if cls.extra else ""
            raise PluginError(f"{kind} needs {', '.join(missing)}{hint}")

    @classmethod
    def one_line(cls) -> str:
        """``summary``, or else the first line of the class docstring."""
        return cls.summary or (cls.__doc__ or "").strip().split("\n")[0]

    @classmethod
    def own_params(cls, params: BaseModel) -> BaseModel:
        """``params``, checked to be this plugin's ``Params`` (what the loader built).

        The base classes call this once, in their constructor, so a subclass reads
        ``self.params`` with its own type and never checks it again.
        """
        if not isinstance(params, cls.Params):
            raise PluginError(
                f"{cls.__name__} takes {cls.Params.__name__} parameters, "
                f"got {type(params).__name__}"
            )
        return params


def _params_argument(cls: type) -> type[BaseModel] | None:
    """The parameter model a class was declared with: ``X`` in ``class K(Injector[X])``."""
    for base in vars(cls).get("__orig_bases__", ()):
        for argument in get_args(base):
            if isinstance(argument, type) and issubclass(argument, BaseModel):
                return argument
    return None


PluginT = TypeVar("PluginT", bound=Plugin)
SubT = TypeVar("SubT", bound=Plugin)


@dataclass(frozen=True)
class Group(Generic[PluginT]):
    """An entry-point group and the base class every plugin registered in it derives from."""

    name: str  # the entry-point group, e.g. "kunren.injectors"
    noun: str  # how messages name one plugin of the group: "fault kind"
    base: type[PluginT]
    expects: str = ""  # the base class a plugin author should derive from, if not ``base``

    def of(self, base: type[SubT], expects: str = "") -> Group[SubT]:
        """The same group, its plugins checked against (and typed as) ``base``."""
        return Group(self.name, self.noun, base, expects)

    @property
    def base_name(self) -> str:
        return self.expects or f"{self.base.__module__}.{self.base.__qualname__}"


INJECTORS: Group[Plugin] = Group("kunren.injectors", "fault kind", Plugin)
PROBES: Group[Plugin] = Group("kunren.probes", "probe kind", Plugin)
CHANNELS: Group[Plugin] = Group("kunren.channels", "channel", Plugin)
SCORERS: Group[Plugin] = Group("kunren.scorers", "scorer", Plugin)
GROUPS: tuple[Group[Plugin], ...] = (INJECTORS, PROBES, CHANNELS, SCORERS)


@dataclass(frozen=True)
class PluginInfo:
    group: str
    name: str
    value: str
    summary: str
    installed: bool
    available: bool
    extra: str | None
    error: str = ""  # why the plugin failed to load, if it did
    test_double: bool = False


@cache
def _registry() -> dict[str, dict[str, EntryPoint]]:
    """Every ``kunren.*`` entry-point group, by group and name, from one scan."""
    from importlib.metadata import entry_points

    everything = entry_points()  # one pass over the distributions; grouped without more I/O
    return {
        group: {point.name: point for point in everything.select(group=group)}
        for group in everything.groups
        if group.startswith("kunren.")
    }


def _entry_points(group: str) -> dict[str, EntryPoint]:
    return _registry().get(group, {})


def forget() -> None:
    """Scan again on the next lookup (after a distribution was installed in this process)."""
    _registry.cache_clear()


def names(group: Group[PluginT]) -> list[str]:
    return sorted(_entry_points(group.name))


def load(group: Group[PluginT], name: str) -> type[PluginT]:
    """The plugin class registered as ``name`` in ``group``, checked to derive from its base."""
    points = _entry_points(group.name)
    if name not in points:
        raise PluginError(f"unknown {group.noun} {name!r}")
    try:
        found = points[name].load()
    except (ImportError, AttributeError) as exc:  # AttributeError: the class is not there
        raise PluginError(f"{group.noun} {name!r} failed to load: {exc}") from exc
    except Exception as exc:  # its module raised on import: foreign code, translated here
        raise PluginError(
            f"{group.noun} {name!r} failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(found, type) and issubclass(found, group.base)):
        raise PluginError(
            f"{group.noun} {name!r} ({points[name].value}) is not a {group.base_name} subclass"
        )
    return found


def require(group: Group[PluginT], name: str) -> type[PluginT]:
    """``load``, and the plugin is usable here: available, its dependencies installed."""
    cls = load(group, name)
    if not cls.available:
        raise NotAvailableError(f"{group.noun} {name} is not available yet")
    cls.ensure_installed(name)
    return cls


def describe(group: Group[PluginT]) -> list[PluginInfo]:
    infos = []
    for name in names(group):
        point = _entry_points(group.name)[name]
        try:
            cls = load(group, name)
        except PluginError as exc:
            infos.append(
                PluginInfo(
                    group.name, name, point.value, str(exc), False, False, None, error=str(exc)
                )
            )
            continue
        infos.append(
            PluginInfo(
                group=group.name,
                name=name,
                value=point.value,
                summary=cls.one_line(),
                installed=not cls.missing_requirements(),
                available=cls.available,
                extra=cls.extra,
                test_double=cls.test_double,
            )
        )
    return infos
