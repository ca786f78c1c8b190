"""The bot's commands: one registry; `builtin` registers the standard set on import."""
from app.bot.commands.registry import REGISTRY, CommandContext, parse_invocation  # noqa: F401
from app.bot.commands import builtin  # noqa: F401,E402  (registers the commands)
