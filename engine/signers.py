"""Change a countersign's members while it runs: add signers (加签) and remove pending ones (减签).

A countersign is a multi-instance user task over a list of people. Adding appends to that list, so the
node's counts (nrOfInstances, the rule's majority) include the new members; removing takes a member who has
not decided out of the count, and the node is decided again at once (removing the last pending member of an
"all" node whose other members approved finishes it).
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import SequentialMultiInstanceTask
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError
from .moves import bpmn_id, node_task

POSITIONS = ("parallel", "before", "after")


def _countersign(workflow, task_id: str):
    """Return (node task, member task) for a waiting member's turn of a countersign node."""
    from .moves import _task

    member = _task(workflow, task_id)
    node = node_task(member)
    if node is member or not hasattr(node.task_spec, "reconsider"):
        raise EngineError("only a countersign (multi-instance) task has members to add or remove",
                          element_id=bpmn_id(member))
    if node.has_state(TaskState.FINISHED_MASK):
        raise EngineError("the countersign has already been decided", element_id=bpmn_id(node))
    return node, member


def _collection(node) -> list:
    spec = node.task_spec
    collection = spec.data_input.get(node) if spec.data_input is not None else None
    if not isinstance(collection, list):
        raise EngineError("members can be added only to a countersign over a list of people (a collection)",
                          element_id=bpmn_id(node))
    rule = getattr(spec, "countersign_rule", None)
    if rule is not None and rule.name == "random":
        raise EngineError("a countersign that picks one random member takes no added members",
                          element_id=bpmn_id(node))
    return collection


def members(node) -> list:
    """Return the members of a countersign node who still count: decided, deciding or still to come."""
    spec = node.task_spec
    collection = spec.data_input.get(node) if spec.data_input is not None else []
    out = [child.data.get(spec.input_item.bpmn_id) if spec.input_item is not None else None
           for child in spec._instances(node)]
    if isinstance(collection, list):
        out += [collection[key] for key in node.internal_data.get("remaining", []) if isinstance(key, int)]
    return out


def add_members(workflow, task_id: str, users: list[str], position: str) -> None:
    """Add people to the countersign a waiting member's task belongs to.

    parallel: they decide alongside the others (a parallel countersign); after / before: in a countersign taken
    in turn, they take their turns right after the member, or right before (the member's task waits again).
    """
    if position not in POSITIONS:
        raise EngineError(f"position must be one of {', '.join(POSITIONS)}")
    node, member = _countersign(workflow, task_id)
    if not member.has_state(TaskState.READY):
        raise EngineError("only the member whose turn it is can add signers", element_id=bpmn_id(member))
    spec = node.task_spec
    collection = _collection(node)
    present = set(map(str, members(node)))
    doubles = [user for user in users if user in present]
    if doubles:
        raise EngineError(f"{', '.join(doubles)} already take part in this countersign", element_id=bpmn_id(node))
    sequential = isinstance(spec, SequentialMultiInstanceTask)
    if sequential == (position == "parallel"):
        raise EngineError("in a countersign taken in turn add signers before or after you; in a parallel one, "
                          "in parallel", element_id=bpmn_id(node))
    keys = []
    for user in users:
        collection.append(user)
        keys.append(len(collection) - 1)
    name = spec.data_input.bpmn_id
    for child in spec._instances(node):  # a member's data is merged back into the node's when they decide
        if not child.has_state(TaskState.FINISHED_MASK) and isinstance(child.data.get(name), list):
            child.data[name] = list(collection)
    if not sequential:
        for key in keys:
            spec.create_child(node, collection[key], key)
        return
    remaining = list(node.internal_data.get("remaining", []))
    if position == "after":
        node.internal_data["remaining"] = keys + remaining
        return
    # Before me: my turn is withdrawn and comes again after theirs.
    mine = member.internal_data.get("key_or_index")
    member.internal_data["removed"] = True
    member.cancel()
    node.internal_data["remaining"] = keys + ([mine] if mine is not None else []) + remaining
    spec.add_next_child(node)


def remove_members(workflow, task_id: str, users: list[str]) -> bool:
    """Take people who have not decided out of a countersign; return whether that decided the node."""
    node, _ = _countersign(workflow, task_id)
    spec = node.task_spec
    collection = spec.data_input.get(node) if spec.data_input is not None else None
    item = spec.input_item.bpmn_id if spec.input_item is not None else None
    waiting = {str(child.data.get(item)): child for child in spec._instances(node)
               if not child.has_state(TaskState.FINISHED_MASK)}
    remaining = list(node.internal_data.get("remaining", []))
    upcoming = {str(collection[key]): key for key in remaining if isinstance(collection, list)}
    unknown = [user for user in users if user not in waiting and user not in upcoming]
    if unknown:
        raise EngineError(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not waiting to decide in "
                          "this countersign", element_id=bpmn_id(node))
    if len(members(node)) - len(users) < 1:
        raise EngineError("a countersign needs at least one member: remove fewer people", element_id=bpmn_id(node))
    for user in users:
        if user in upcoming:
            remaining.remove(upcoming[user])
    if "remaining" in node.internal_data:
        node.internal_data["remaining"] = remaining
    current_removed = False
    for user in users:
        child = waiting.get(user)
        if child is not None:
            child.internal_data["removed"] = True
            child.cancel()
            current_removed = True
    if spec.reconsider(node):
        return True
    if current_removed and isinstance(spec, SequentialMultiInstanceTask):
        spec.add_next_child(node)
    return False
