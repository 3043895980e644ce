"""The declarative state machines, one module per lifecycle. No Flask imports here.

``MACHINES`` maps each entity name to its machine; services look machines up here.
"""

from workflows.application import ApplicationLifecycle
from workflows.association import AssociationLifecycle
from workflows.award import AwardLifecycle
from workflows.bank_change import BankChangeLifecycle
from workflows.base import Lifecycle
from workflows.call import CallLifecycle
from workflows.report import ReportLifecycle
from workflows.review import ReviewLifecycle
from workflows.tranche import TrancheLifecycle

MACHINES: dict[str, type[Lifecycle]] = {
    machine.entity: machine
    for machine in (
        AssociationLifecycle,
        CallLifecycle,
        ApplicationLifecycle,
        ReviewLifecycle,
        AwardLifecycle,
        TrancheLifecycle,
        ReportLifecycle,
        BankChangeLifecycle,
    )
}
for _machine in MACHINES.values():
    _machine.check_declaration()

__all__ = ["MACHINES", "Lifecycle"]
