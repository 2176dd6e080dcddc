"""Inspection rules: Ironic's rules language over inspection data and a node.

A rules file is ironic-inspector's JSON exactly as operators write it, or ferrofish's canonical
form (see ``docs/rules.md``)::

    from ferrofish.rules import RuleSet, inspection_data

    rules = RuleSet.from_json(open("rules.json").read())
    data = inspection_data(client.inventory(), bmc_address="10.0.0.5", auto_discovered=True)
    node, applied = rules.apply(data, {})      # a new dict; the one passed in is unchanged
    print(rules.explain(data, {}))             # which conditions held, what would change

Nodes are plain dicts with Ironic's node fields (``driver``, ``driver_info``, ``properties``,
``traits``, ``extra``). A value a rule sets at a ``*password*`` path never goes into the node:
the node holds a ``secret://rules/<path>`` reference, and the value comes back apart as a
:class:`RuleSecret` (``applied.secrets``), whose ``repr`` never shows it and which
``reveal()`` opens deliberately.
"""

from __future__ import annotations

from typing import Any, Dict

from ferrofish._ferrofish import RuleSecret, RuleSet, RulesApplied, inspection_data
from ferrofish.exceptions import InvalidRulesError, RuleError, RuleFailedError

__all__ = [
    "Explanation",
    "InvalidRulesError",
    "RuleError",
    "RuleFailedError",
    "RuleSecret",
    "RuleSet",
    "RulesApplied",
    "inspection_data",
]


class Explanation(Dict[str, Any]):
    """What ``RuleSet.explain`` found: a dict in the serialized form (``{"evaluation",
    "rules": [{"index", "description", "matched", "conditions", "changes", ...}],
    "outcome": {"status", ...}}``) whose ``str()`` is the same account in words."""

    def __init__(self, data: Dict[str, Any], text: str) -> None:
        super().__init__(data)
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> Any:
        return (Explanation, (dict(self), self.text))
