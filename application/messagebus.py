"""The message bus: runs a command's handler in a fresh unit of work, then the handlers of the events it raised.

Handlers are plain functions ``handler(message, uow, **dependencies)``. The bus injects the dependencies a
handler names among its parameters, so handlers stay free of any container or framework.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from application.ports import UnitOfWork

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]


class MessageBus:
    """Dispatches commands (one handler, result returned) and events (any number of handlers)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        command_handlers: Mapping[type, Handler],
        event_handlers: Mapping[type, Sequence[Handler]],
        dependencies: Mapping[str, Any],
    ) -> None:
        self._uow_factory = uow_factory
        self._dependencies = dict(dependencies)
        self._command_handlers = {cls: self._bind(h) for cls, h in command_handlers.items()}
        self._event_handlers = {cls: [self._bind(h) for h in hs] for cls, hs in event_handlers.items()}

    def handle(self, command: object) -> Any:
        """Run the command's handler and return its result; then dispatch the events it raised."""
        try:
            handler = self._command_handlers[type(command)]
        except KeyError:
            raise TypeError(f"no handler registered for {type(command).__name__}") from None
        uow = self._uow_factory()
        result = handler(command, uow)
        self._dispatch_events(list(uow.collect_new_events()))
        return result

    def _dispatch_events(self, queue: list[object]) -> None:
        while queue:
            event = queue.pop(0)
            for handler in self._event_handlers.get(type(event), ()):
                uow = self._uow_factory()
                try:
                    handler(event, uow)
                except Exception:
                    # An event handler's failure must not undo the command that already committed.
                    logger.exception("handler %s failed for %r", getattr(handler, "__name__", handler), event)
                    continue
                queue.extend(uow.collect_new_events())

    def _bind(self, handler: Handler) -> Callable[[object, UnitOfWork], Any]:
        wanted = list(inspect.signature(handler).parameters)[2:]
        missing = [name for name in wanted if name not in self._dependencies]
        if missing:
            raise TypeError(f"{handler.__name__} needs {missing}, which the bus was not given")
        kwargs = {name: self._dependencies[name] for name in wanted}

        def bound(message: object, uow: UnitOfWork) -> Any:
            return handler(message, uow, **kwargs)

        bound.__name__ = handler.__name__
        return bound
