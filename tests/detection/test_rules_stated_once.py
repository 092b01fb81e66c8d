"""Each rule of RULES.md is decided in one module, and nowhere else.

`DECIDED_BY` names, for every code of RULES.md's table, the one module that decides
it. The scan reads every module of `metareg/` (its syntax tree, not its text) and
fails on anything outside that module that states a rule again:

- the rule's code as a string literal (a comparison, a branch, a hand-made list or a
  dict of codes, a second `CODE`), outside its module and the catalogue
  (`metareg/findings.py`); the simulator may only label what it plants with a code
  (a call's argument), never compare or group by one;
- a comparison with a rule module's `CODE`;
- a hand-made group of rules (a collection naming two or more rule modules) outside
  `rules/__init__.py`, where the rules are listed once and grouped by their declared
  kind; a prefilter may only declare the rules it covers (`COVERED`).

`test_the_scan_finds_a_restatement` shows each of these makes the scan fail.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from metareg.detection.rules import RULES
from metareg.findings import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "metareg"
RULES_PACKAGE = "metareg.detection.rules"
CATALOGUE_MODULE = "metareg/findings.py"
LABELLING = "metareg/simulator/"  # plants conflicts labelled with their rule's code
COVERAGE_NAMES = {"COVERED"}  # a prefilter's list of the rules it has a condition for

# The one module deciding each code of RULES.md's table; None: not implemented yet.
DECIDED_BY: dict[str, str | None] = {
    "DC01": "metareg/detection/rules/dc01_double_issuance.py",
    "DC02": "metareg/detection/rules/dc02_identifier_conflict.py",
    "DC03": "metareg/detection/rules/dc03_underlying_unit_reuse.py",
    "DC04": "metareg/detection/rules/dc04_multiple_holders.py",
    "DC05": "metareg/detection/rules/dc05_double_use.py",
    "DC06": "metareg/detection/rules/dc06_activity_after_use.py",
    "DC07": "metareg/detection/rules/dc07_missing_authorization.py",
    "DC08": "metareg/detection/rules/dc08_purpose_not_authorized.py",
    "DC09": "metareg/detection/rules/dc09_authorization_exceeded.py",
    "DC10": "metareg/detection/rules/dc10_unmatched_transfer.py",
    "DC11": "metareg/detection/rules/dc11_unmatched_acquisition.py",
    "DC12": "metareg/detection/rules/dc12_quantity_mismatch.py",
    "DC13": "metareg/detection/rules/dc13_action_before_authorization.py",
    "DC14": "metareg/detection/rules/dc14_foreign_authorization.py",
    # Issue 13 (RULES.md already states them).
    "DC15": "metareg/detection/rules/dc15_underlying_units_claimed_elsewhere.py",
    "DC16": "metareg/detection/rules/dc16_underlying_units_not_authorized.py",
    "DC17": "metareg/detection/rules/dc17_untraced_block.py",
}
# RULES.md's codes where the spec is not beside the checkout (its table as of issue 13).
SPEC_CODES_COPY = tuple(f"DC{n:02d}" for n in range(1, 18))


def _spec() -> Path | None:
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "spec" / "RULES.md"
        if candidate.exists():
            return candidate
    return None


def spec_codes() -> tuple[str, ...]:
    """The codes of RULES.md's rule table (`| DCnn | name | severity | raised when |`)."""
    spec = _spec()
    if spec is None:
        return SPEC_CODES_COPY
    return tuple(re.findall(r"^\| (DC\d\d) \|", spec.read_text(), flags=re.MULTILINE))


def rule_modules() -> dict[str, str]:
    """Module name -> code, for every rule module `rules/dcNN_*.py`."""
    return {
        f"{RULES_PACKAGE}.{path.stem}": path.stem[:4].upper()
        for path in sorted((PACKAGE / "detection" / "rules").glob("dc[0-9][0-9]_*.py"))
    }


# -- the scan ---------------------------------------------------------------------------------


def _rule_aliases(tree: ast.Module, modules: dict[str, str]) -> dict[str, str]:
    """Names bound in a module to a rule module or to something of one -> its code."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for name in node.names:
                bound = name.asname or name.name
                if f"{node.module}.{name.name}" in modules:
                    aliases[bound] = modules[f"{node.module}.{name.name}"]
                elif node.module in modules:
                    aliases[bound] = modules[node.module]
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name in modules and name.asname:
                    aliases[name.asname] = modules[name.name]
    return aliases


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def restatements(source: str, path: str, modules: dict[str, str]) -> list[str]:
    """What `source` (the module at `path`, relative to the checkout) states about a
    rule that only its own module may state: one line per finding."""
    tree = ast.parse(source)
    codes = {code for code in DECIDED_BY}
    own = {code for code, module in DECIDED_BY.items() if module == path}
    aliases = _rule_aliases(tree, modules)
    found: list[str] = []
    labels: set[int] = set()
    if path.startswith(LABELLING):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                labels.update(id(arg) for arg in [*node.args, *(k.value for k in node.keywords)])
    allowed_groups: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in COVERAGE_NAMES for t in targets):
                allowed_groups.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if (
                node.value in codes
                and node.value not in own
                and path != CATALOGUE_MODULE
                and id(node) not in labels
            ):
                found.append(f"{where}: the code {node.value} outside its module")
        elif isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                if (
                    isinstance(operand, ast.Attribute)
                    and operand.attr == "CODE"
                    and _root_name(operand) in aliases
                ):
                    code = aliases[_root_name(operand) or ""]
                    if code not in own:
                        found.append(f"{where}: a comparison with {code}'s CODE")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and id(node) not in allowed_groups:
            named = {
                aliases[name]
                for element in node.elts
                if (name := _root_name(element)) is not None and name in aliases
            }
            if len(named) >= 2 and path != "metareg/detection/rules/__init__.py":
                found.append(f"{where}: a hand-made group of rules {sorted(named)}")
    return found


def scan() -> list[str]:
    modules = rule_modules()
    found: list[str] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        path = file.relative_to(ROOT).as_posix()
        found += restatements(file.read_text(), path, modules)
    return found


# -- the tests --------------------------------------------------------------------------------


def test_every_code_of_rules_md_has_its_one_module() -> None:
    assert sorted(DECIDED_BY) == sorted(spec_codes())
    modules = rule_modules()
    implemented = {code: path for code, path in DECIDED_BY.items() if path is not None}
    by_code = {code: module for module, code in modules.items()}
    assert sorted(by_code) == sorted(implemented), "a rule module for a pending code, or none"
    assert len(by_code) == len(modules), "two modules claim one code"
    declared = {rule.code for rule in RULES}
    for code, path in implemented.items():
        module = importlib.import_module(by_code[code])
        assert Path(module.__file__ or "").resolve() == (ROOT / path).resolve()
        assert (module.CODE, module.RULE.code) == (code, code)
        assert code in CATALOGUE
    assert declared == set(implemented)
    assert [rule.code for rule in RULES] == sorted(declared)


def test_no_second_module_decides_a_rule() -> None:
    assert scan() == []


RESTATEMENTS = [
    ("metareg/web/api/routers/checks.py", 'PASSED = {"DC06": "no use precedes it"}\n'),
    (
        "metareg/detection/passes/sweep.py",
        'def f(finding):\n    return finding.rule == "DC06"\n',
    ),
    (
        "metareg/checks/runner.py",
        "from metareg.detection.rules import dc03_underlying_unit_reuse as dc03\n"
        "WHERE = alerts.rule == dc03.CODE\n",
    ),
    (
        "metareg/detection/passes/proposed.py",
        "from metareg.detection.rules import dc05_double_use, dc06_activity_after_use\n"
        "PAIR_RULES = (dc05_double_use, dc06_activity_after_use)\n",
    ),
    ("metareg/simulator/plant.py", 'def f(rule):\n    if rule in ("DC06",):\n        pass\n'),
    ("metareg/detection/rules/dc05_double_use.py", 'OTHER = "DC06"\n'),
]


@pytest.mark.parametrize(("path", "source"), RESTATEMENTS)
def test_the_scan_finds_a_restatement(path: str, source: str) -> None:
    assert restatements(source, path, rule_modules()) != []


def test_the_scan_lets_labels_and_the_rules_own_statements_pass() -> None:
    modules = rule_modules()
    label = 'plant(PendingConflict("DC06", registry, day))\n'
    assert restatements(label, "metareg/simulator/plant.py", modules) == []
    own = 'CODE = "DC06"\n'
    assert restatements(own, "metareg/detection/rules/dc06_activity_after_use.py", modules) == []
    coverage = (
        "from metareg.detection.rules import dc07_missing_authorization as dc07\n"
        "from metareg.detection.rules import dc08_purpose_not_authorized as dc08\n"
        "COVERED = (dc07.RULE, dc08.RULE)\n"
    )
    assert restatements(coverage, "metareg/detection/prefilter/authorizations.py", modules) == []
