"""Every text id the code can ask for exists in the Chinese and the English catalog.

The code under bot/ and handlers/ is read with `ast`, never run. An id reaches a catalog
through a few doors, and through any function that hands one of its parameters on to a
door (`t(context, key)`, `_say(services, key)`, a nested `button(key)`, `OfficeNotices._tell`):

- `<…>texts.get / plain / raw(lang, id)`;
- a `DomainError` subclass (`InvalidInput("id")`, `SetupError(...)`, `super().__init__("id")`);
- a dataclass field `message_id: str` or `text_id: str` (`RowError`, `Refusal`,
  `SkippedFile`, `CommandSpec`), rendered later as `texts.get(lang, error.message_id)`.

What reaches a door is followed through literals, `a if c else b`, local assignments,
loops over literal tuples and f-strings. An f-string whose placeholder cannot be followed
(an enum member's value, an action parsed from callback data) gets its values from
TEMPLATE_VALUES below; an id that cannot be followed at all fails the test, unless it is
an id carried by an error or row (`x.message_id`, `x.text_id`), checked where it was made.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from bot.core.callbacks import SHAPES, TASK
from bot.reminders.views import PARTS_OF_DAY
from bot.reports.bulletin import GROUPS
from bot.reports.ledger import LEDGER_COLUMNS, SUMMARY_COLUMNS
from bot.texts import LANGUAGES, load_catalog
from db.models import EvidenceStatus, Role, TaskStatus
from db.models.reminders import UNDELIVERED_STATES

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "handlers")

# f-string ids whose placeholder the scan cannot follow, and the values it takes. Keyed by
# the id with `{}` for the placeholder; every entry must still be used somewhere.
TEMPLATE_VALUES: dict[str, Iterable[str]] = {
    "status.{}": [s.value for s in TaskStatus],
    "evidence.status.{}": [s.value for s in EvidenceStatus],
    # /undelivered lists only these (db/repositories/delivery.py `undelivered`).
    "reminders.state.{}": [s.value for s in UNDELIVERED_STATES],
    "role.{}": [r.value for r in Role],
    # Card buttons that reach handlers/tasks/cards.py `_apply`: open/back/prog redraw the
    # card and note/block ask for text first.
    "ack.{}": sorted(set(SHAPES[TASK]) - {"open", "back", "prog", "note", "block"}),
    "reminders.digest.title_{}": PARTS_OF_DAY,
    "reports.ledger_col.{}": [key for key, *_ in LEDGER_COLUMNS],
    "reports.ledger_sum.{}": [key for key, *_ in SUMMARY_COLUMNS],
    "reports.bulletin_group.{}": list(GROUPS),
}
# Attributes that carry an id made elsewhere (and checked there) to the catalog.
CARRIED = {"message_id", "text_id"}
TEXTS_METHODS = {"get", "plain", "raw"}
DOMAIN_ERROR = "DomainError"


@dataclass(frozen=True)
class Param:
    """A parameter of the function being read: its value comes from each caller."""

    index: int | None  # position in a call (after self); None when keyword-only
    name: str


class Unknown:
    """A value the scan cannot follow."""


UNKNOWN = Unknown()
Part = str | Param | Unknown
Pattern = tuple[Part, ...]


@dataclass(frozen=True)
class Where:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@dataclass
class Module:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    def enclosing(self, node: ast.AST, kinds: tuple[type, ...]) -> ast.AST | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, kinds):
            parent = self.parents.get(parent)
        return parent

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        found = self.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        assert found is None or isinstance(found, ast.FunctionDef | ast.AsyncFunctionDef)
        return found


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Sink:
    """Calls this matcher accepts pass an id built as `pattern` from their arguments."""

    name: str
    matches: Callable[[Module, ast.Call], bool] = field(compare=False)
    pattern: Pattern


@dataclass
class Scan:
    ids: dict[str, list[Where]] = field(default_factory=lambda: defaultdict(list))
    unfollowed: list[str] = field(default_factory=list)
    templates_used: set[str] = field(default_factory=set)


def _modules() -> list[Module]:
    modules = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            parents = {
                child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
            }
            modules.append(Module(path, tree, parents))
    return modules


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_method(module: Module, function: FunctionNode) -> bool:
    return isinstance(module.parents.get(function), ast.ClassDef) and not any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list
    )


def _params(module: Module, function: FunctionNode) -> dict[str, Param]:
    positional = [*function.args.posonlyargs, *function.args.args]
    if _is_method(module, function):
        positional = positional[1:]
    params = {a.arg: Param(i, a.arg) for i, a in enumerate(positional)}
    params.update({a.arg: Param(None, a.arg) for a in function.args.kwonlyargs})
    return params


# --- what an expression can be -------------------------------------------------------


def _literal_items(module: Module, node: ast.expr, scope: FunctionNode | None) -> list[ast.expr]:
    """The elements of a literal sequence or of a literal dict's keys/values/items, also
    through a local or module name given one."""
    view = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
        view, node = node.func.attr, node.func.value
    if isinstance(node, ast.Name):
        for value in _bindings(module, scope, node.id) + _bindings(module, None, node.id):
            if isinstance(value, ast.Tuple | ast.List | ast.Set | ast.Dict):
                node = value
                break
    if isinstance(node, ast.Tuple | ast.List | ast.Set) and view is None:
        return list(node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        keys = [k for k in node.keys if k is not None]
        if view in (None, "keys"):
            return list(keys)
        if view == "values":
            return list(node.values)
        if view == "items":
            pairs = zip(keys, node.values, strict=True)
            return [ast.Tuple(elts=[k, v], ctx=ast.Load()) for k, v in pairs]
    return []


def _bindings(module: Module, scope: FunctionNode | None, name: str) -> list[ast.expr]:
    """The expressions `name` is given in `scope` (the module when None): assignments,
    and the matching element of each item of a literal tuple it loops over."""
    body: ast.AST = scope if scope is not None else module.tree
    found: list[ast.expr] = []
    for node in ast.walk(body):
        if scope is None and module.function_of(node) is not None:
            continue
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found.append(node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name) and node.target.id == name:
                found.append(node.value)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name:
                found.extend(_literal_items(module, node.iter, scope))
            elif isinstance(target, ast.Tuple):
                for position, element in enumerate(target.elts):
                    if isinstance(element, ast.Name) and element.id == name:
                        for item in _literal_items(module, node.iter, scope):
                            if isinstance(item, ast.Tuple) and len(item.elts) > position:
                                found.append(item.elts[position])
    return found


def _values(
    module: Module, node: ast.expr, scope: FunctionNode | None, seen: frozenset[str] = frozenset()
) -> set[Pattern]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {(node.value,)}
    if isinstance(node, ast.IfExp):
        return _values(module, node.body, scope, seen) | _values(module, node.orelse, scope, seen)
    if isinstance(node, ast.JoinedStr):
        parts: list[set[Pattern]] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                parts.append(_values(module, value.value, scope, seen))
            else:
                parts.append(_values(module, value, scope, seen))
        return {tuple(p for piece in combo for p in piece) for combo in itertools.product(*parts)}
    if isinstance(node, ast.Name) and node.id not in seen:
        if scope is not None and node.id in (params := _params(module, scope)):
            return {(params[node.id],)}
        for where in (scope, None):
            bound = _bindings(module, where, node.id)
            if bound:
                return set().union(
                    *(_values(module, b, scope, seen | {node.id}) for b in bound)
                )
    return {(UNKNOWN,)}


# --- the doors and the functions that lead to them --------------------------------------


def _texts_method(module: Module, call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in TEXTS_METHODS
        and ast.unparse(func.value).split(".")[-1] == "texts"
    )


def _inside(module: Module, node: ast.AST, within: ast.AST) -> bool:
    parent: ast.AST | None = node
    while parent is not None and parent is not within:
        parent = module.parents.get(parent)
    return parent is within


def _by_name(name: str, within: ast.AST | None = None) -> Callable[[Module, ast.Call], bool]:
    def matches(module: Module, call: ast.Call) -> bool:
        return _callee(call) == name and (within is None or _inside(module, call, within))

    return matches


def _by_method(name: str, cls: ast.ClassDef) -> Callable[[Module, ast.Call], bool]:
    """`self.name(...)` inside the class, or `x.name(...)` where `x = Class(...)` or
    `x: Class` is a parameter."""

    def matches(module: Module, call: ast.Call) -> bool:
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == name
            and isinstance(func.value, ast.Name)
        ):
            return False
        receiver = func.value.id
        if receiver == "self":
            return _inside(module, call, cls)
        scope = module.function_of(call)
        made = _bindings(module, scope, receiver)
        if any(isinstance(v, ast.Call) and _callee(v) == cls.name for v in made):
            return True
        arguments = [] if scope is None else [*scope.args.args, *scope.args.kwonlyargs]
        return any(
            a.arg == receiver and a.annotation is not None
            and ast.unparse(a.annotation).strip("'\"") == cls.name
            for a in arguments
        )

    return matches


def _is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target).split(".")[-1] == "dataclass":
            return True
    return False


def _domain_errors(modules: list[Module]) -> set[str]:
    names = {DOMAIN_ERROR}
    classes = [n for m in modules for n in ast.walk(m.tree) if isinstance(n, ast.ClassDef)]
    while True:
        more = {
            c.name for c in classes
            if c.name not in names and any(ast.unparse(b).split(".")[-1] in names for b in c.bases)
        }
        if not more:
            return names
        names |= more


def _doors(modules: list[Module]) -> list[Sink]:
    doors = [Sink("texts", _texts_method, (Param(1, "key"),)),
             # A parameter rendered as another text of the catalog (`bot.texts.Label`).
             Sink("Label", _by_name("Label"), (Param(0, "text_id"),))]
    errors = _domain_errors(modules)
    for module in modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ClassDef):
                continue
            if node.name in errors:
                own_init = any(
                    isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body
                )
                if node.name == DOMAIN_ERROR or not own_init:
                    doors.append(Sink(node.name, _by_name(node.name), (Param(0, "message_id"),)))
                else:
                    doors.append(Sink(f"{node.name} super", _super_init_within(node),
                                      (Param(0, "message_id"),)))
            elif _is_dataclass(node):
                fields = [s for s in node.body if isinstance(s, ast.AnnAssign)]
                for index, item in enumerate(fields):
                    if (
                        isinstance(item.target, ast.Name)
                        and item.target.id in CARRIED
                        and ast.unparse(item.annotation) == "str"
                    ):
                        doors.append(Sink(node.name, _by_name(node.name),
                                          (Param(index, item.target.id),)))
    return doors


def _super_init_within(cls: ast.ClassDef) -> Callable[[Module, ast.Call], bool]:
    def matches(module: Module, call: ast.Call) -> bool:
        return (
            _callee(call) == "__init__"
            and _inside(module, call, cls)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Call)
            and _callee(call.func.value) == "super"
        )

    return matches


def _caller_matcher(module: Module, function: FunctionNode) -> Callable[[Module, ast.Call], bool]:
    """Which calls reach `function`: a nested one is called in its parent, a method on an
    instance of its class, `__init__` by the class's name, a module's function by its name."""
    parent = module.parents.get(function)
    if isinstance(parent, ast.ClassDef):
        if function.name == "__init__":
            return _by_name(parent.name)
        return _by_method(function.name, parent)
    outer = module.function_of(function)
    if outer is not None:
        return _by_name(function.name, within=outer)
    return _by_name(function.name)


def _argument(call: ast.Call, param: Param) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == param.name:
            return keyword.value
    if param.index is None or param.index >= len(call.args):
        return None
    if any(isinstance(a, ast.Starred) for a in call.args[: param.index + 1]):
        return None
    return call.args[param.index]


def _carried(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in CARRIED


@cache
def scan() -> Scan:
    modules = _modules()
    calls = [
        (module, node) for module in modules for node in ast.walk(module.tree)
        if isinstance(node, ast.Call)
    ]
    result = Scan()
    pending = _doors(modules)
    known = set(pending)
    while pending:
        sink = pending.pop()
        for module, call in calls:
            if not sink.matches(module, call):
                continue
            for found in _through(module, call, sink, result):
                if found not in known:
                    known.add(found)
                    pending.append(found)
    return result


def _through(module: Module, call: ast.Call, sink: Sink, result: Scan) -> Iterator[Sink]:
    """Record the ids this call passes on; yield a new sink when they come from the
    calling function's own parameters."""
    scope = module.function_of(call)
    where = Where(module.path, call.lineno)
    choices: list[set[Pattern]] = []
    carried = False
    for part in sink.pattern:
        if isinstance(part, Param):
            argument = _argument(call, part)
            if argument is None:
                return  # left to its default: not an id this call chooses
            carried |= _carried(argument)
            choices.append(_values(module, argument, scope))
        else:
            choices.append({(part,)})
    patterns = {tuple(p for piece in combo for p in piece) for combo in itertools.product(*choices)}
    for pattern in patterns:
        if scope is not None and any(isinstance(p, Param) for p in pattern):
            name = f"{module.path.relative_to(ROOT)}:{scope.lineno} {scope.name}"
            yield Sink(name, _caller_matcher(module, scope), pattern)
            continue
        if not any(isinstance(p, Unknown | Param) for p in pattern):
            result.ids["".join(str(p) for p in pattern)].append(where)
            continue
        template = "".join(p if isinstance(p, str) else "{}" for p in pattern)
        if template == "{}":
            if not carried:
                result.unfollowed.append(
                    f"{where}: {ast.unparse(call)[:100]} (an id the scan cannot follow, "
                    f"going to {sink.name})"
                )
        elif template in TEMPLATE_VALUES:
            result.templates_used.add(template)
            for value in TEMPLATE_VALUES[template]:
                result.ids[template.replace("{}", value)].append(where)
        else:
            result.unfollowed.append(f"{where}: {template!r} (add its values to TEMPLATE_VALUES)")


# --- the tests ------------------------------------------------------------------------


def test_every_text_id_in_the_code_is_in_both_catalogs() -> None:
    catalogs = {lang: load_catalog(lang) for lang in LANGUAGES}
    missing = []
    for text_id, places in sorted(scan().ids.items()):
        absent = [lang for lang in LANGUAGES if text_id not in catalogs[lang]]
        if absent:
            where = ", ".join(sorted({str(w) for w in places}))
            missing.append(f"{text_id} (not in {', '.join(absent)}) at {where}")
    if missing:
        pytest.fail(
            "text ids used in the code but missing from a catalog:\n  " + "\n  ".join(missing),
            pytrace=False,
        )


def test_every_text_id_in_the_code_can_be_followed() -> None:
    result = scan()
    if result.unfollowed:
        pytest.fail("text ids the scan cannot check:\n  " + "\n  ".join(result.unfollowed),
                    pytrace=False)
    unused = set(TEMPLATE_VALUES) - result.templates_used
    assert not unused, f"TEMPLATE_VALUES entries no code uses any more: {sorted(unused)}"


def test_the_scan_finds_the_usual_doors() -> None:
    """A guard on the scan itself: if these are not found, it is reading nothing."""
    ids = scan().ids
    for text_id in ("error.internal", "cmd.tasks", "ack.done", "status.todo", "button.prog",
                    "reminders.button.done", "tables.preview.new_units"):
        assert text_id in ids, text_id


def test_catalog_ids_no_code_uses_are_listed() -> None:
    """Not a failure: ids may be reached in ways the scan does not follow. Read with -s."""
    unused = sorted(set(load_catalog("zh")) - set(scan().ids))
    if unused:
        print(f"\n{len(unused)} catalog ids the scan found no use of:\n  " + "\n  ".join(unused))
