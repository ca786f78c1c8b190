"""Moving a running deployment's queues from one type to the other (classic → quorum, or back), losing nothing.

A queue's type cannot change: RabbitMQ refuses to redeclare a classic queue as quorum (406 inequivalent
arg 'x-queue-type'). So each queue of the layout whose type is not the wanted one is replaced, with its
messages, by one of the wanted type and the same name and bindings, through a holding queue:

1. a holding queue `<name>.moving-to-<type>` (of the wanted type) is bound like the queue: from now on
   whatever web or a task publishes lands there too;
2. the old queue is unbound (new messages go to the holding queue only), its messages are moved to the
   holding queue, and it is deleted once empty;
3. the new queue is declared and bound, the holding queue unbound, its messages moved to the new queue,
   and it is deleted.

Every binding always has a queue behind it, so a message published meanwhile is never dropped by the
exchange; every message is acknowledged on its old queue only after the broker confirmed its copy. A message
published in the instant both queues are bound, or moved again after a crash of this command, arrives twice,
which the bot's consumers already absorb (each delivery, command and reply is recorded once by its key).
Running it again resumes where a run stopped, and does nothing once every queue has the wanted type.

The workers (and beat) must be stopped while it runs — a consumer on the old queue holds messages it has
not acknowledged — while web may go on taking Slack's deliveries. `python manage.py migrate_queues --to
quorum`; README.md ("Quorum queues") gives the whole procedure.
"""
from __future__ import annotations

from dataclasses import dataclass

from amqp import Message
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Queue, binding

from app.queueing import layout


class MigrationRefused(Exception):
    """The broker is not in a state the queues can be moved in (the message says what to do)."""


@dataclass
class Moved:
    queue: str
    was: str            # the type it had: classic, quorum, or "absent"
    messages: int = 0   # messages moved to the queue of the wanted type (0 if nothing had to change)


def holding_name(queue: Queue, queue_type: str) -> str:
    return f"{queue.name}.moving-to-{queue_type}"


def migrate(connection, queue_type: str, say=lambda line: None) -> list[Moved]:
    """Give every queue of the layout `queue_type`, moving its messages (see the module's doc)."""
    wanted = layout.queue_arguments(queue_type)
    queues = layout.declared_queues()
    _refuse_if_consumed(connection, queues, queue_type)
    results = []
    for queue in queues:
        result = _migrate_queue(connection, queue, queue_type, wanted, say)
        results.append(result)
    return results


def _refuse_if_consumed(connection, queues, queue_type) -> None:
    busy = []
    for queue in queues:
        for name in (queue.name, holding_name(queue, queue_type)):
            info = _passive(connection, name)
            if info is not None and info.consumer_count:
                busy.append(f"{name} ({info.consumer_count})")
    if busy:
        raise MigrationRefused("queues still have consumers: " + ", ".join(busy) + ". Stop every worker (and beat)"
                               " first; web may keep running.")


def _passive(connection, name):
    """The queue's (name, message_count, consumer_count), or None if there is no such queue."""
    channel = connection.channel()
    try:
        return channel.queue_declare(queue=name, passive=True)
    except NotFound:
        return None
    finally:
        _close(channel)


def _has_type(connection, queue: Queue, arguments: dict) -> bool | None:
    """True if the queue exists with these arguments, False if it exists with others, None if absent."""
    if _passive(connection, queue.name) is None:
        return None
    channel = connection.channel()
    try:
        channel.queue_declare(queue=queue.name, durable=queue.durable, exclusive=False, auto_delete=False,
                              arguments=arguments)
        return True
    except PreconditionFailed:  # 406 inequivalent arg 'x-queue-type': the other type
        return False
    finally:
        _close(channel)


def _bindings(queue: Queue) -> list[binding]:
    if queue.exchange is not None and queue.exchange.name:
        return [binding(queue.exchange, routing_key=queue.routing_key, arguments=queue.binding_arguments)]
    return list(queue.bindings or ())


def _migrate_queue(connection, queue: Queue, queue_type: str, wanted: dict, say) -> Moved:
    others = {k: v for k, v in (queue.queue_arguments or {}).items() if k != "x-queue-type"}
    target_arguments = {**others, **wanted} or None
    holding = Queue(holding_name(queue, queue_type), durable=True, queue_arguments=target_arguments)
    has_type = _has_type(connection, queue, target_arguments or {})
    was = "absent" if has_type is None else queue_type if has_type else _other(queue_type)
    holding_exists = _passive(connection, holding.name) is not None
    if has_type and not holding_exists:
        return Moved(queue.name, was)  # already of the wanted type, nothing left over from a run
    channel = connection.channel()
    try:
        if has_type is False:
            # 1-2: the holding queue takes the queue's bindings; the old queue is emptied into it and deleted.
            holding.bind(channel).declare()
            for b in _bindings(queue):
                b.exchange.bind(channel).declare()
                channel.queue_bind(holding.name, b.exchange.name, b.routing_key or "", arguments=b.arguments)
            for b in _bindings(queue):
                channel.queue_unbind(queue.name, b.exchange.name, b.routing_key or "", arguments=b.arguments)
            held = _move_all(connection, queue.name, holding.name)
            say(f"{queue.name}: {was} queue unbound, {held} message(s) moved to {holding.name}")
            _delete_emptied(connection, queue.name, holding.name, quorum=queue_type == "classic")
        # 3: the queue of the wanted type, bound; the holding queue unbound, emptied into it, deleted.
        target = Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key, durable=True,
                       queue_arguments=target_arguments, bindings=queue.bindings,
                       binding_arguments=queue.binding_arguments)
        target.bind(channel).declare()
        moved = 0
        if _passive(connection, holding.name) is not None:
            for b in _bindings(queue):
                channel.queue_unbind(holding.name, b.exchange.name, b.routing_key or "", arguments=b.arguments)
            moved = _move_all(connection, holding.name, queue.name)
            _delete_emptied(connection, holding.name, queue.name, quorum=queue_type == "quorum")
        say(f"{queue.name}: now a {queue_type} queue; {moved} message(s) moved into it")
        return Moved(queue.name, was, moved)
    finally:
        _close(channel)


def _move_all(connection, source: str, target: str) -> int:
    """Move every message from `source` to `target` (by the default exchange), each acknowledged on
    `source` only once the broker confirmed its copy."""
    channel = connection.channel()
    moved = 0
    try:
        while True:
            message = channel.basic_get(source, no_ack=False)
            if message is None:
                return moved
            properties = dict(message.properties)
            properties["delivery_mode"] = 2  # persistent, whatever it was
            copy = Message(message.body, **properties)
            # py-amqp's basic_publish_confirm puts the channel in confirm mode, waits for the broker's ack and
            # raises MessageNacked on a nack (and, with mandatory, an error if the copy could not be routed);
            # checked against amqp 5.4.2.
            channel.basic_publish_confirm(copy, exchange="", routing_key=target, mandatory=True)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    finally:
        _close(channel)


def _delete_emptied(connection, name: str, rest_to: str, quorum: bool) -> None:
    """Delete a queue just emptied into `rest_to` (unbound, no consumer). Quorum queues have no if-empty
    delete (540 NOT_IMPLEMENTED): there, whatever a publisher naming the queue put in since is moved first."""
    channel = connection.channel()
    try:
        if not quorum:
            channel.queue_delete(name, if_empty=True)
            return
        while _move_all(connection, name, rest_to) or _passive(connection, name).message_count:
            pass
        channel.queue_delete(name)
    finally:
        _close(channel)


def _other(queue_type: str) -> str:
    return next(t for t in layout.QUEUE_TYPES if t != queue_type)


def _close(channel) -> None:
    try:
        channel.close()
    except Exception:  # a channel the broker closed (406, 404) is already gone
        pass
