"""The standard commands. Each answers in the language of the name it was called by."""
from __future__ import annotations

import re

from app.bot.commands.registry import REGISTRY, CommandContext
from app.bot import selectors
from app import slack_text


def readable(text: str) -> str:
    """Slack's tokens in what someone typed, as plain words: echoing `<!channel>` back would notify everyone."""
    def plain(match: re.Match) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("@"):
            return "@" + (label or target[1:])
        return label or target
    return slack_text.TOKEN.sub(plain, text)


@REGISTRY.command("help", es="ayuda", en="help",
                  usage_es="ayuda", about_es="esta lista de comandos",
                  usage_en="help", about_en="this list of commands")
def show_help(ctx: CommandContext) -> str:
    lines = [ctx.say(es="*Comandos* (también en inglés: help, status, next, search, count, stats):",
                     en="*Commands* (also in Spanish: ayuda, ve, siguiente, busca, cuenta, estadisticas):")]
    # What to type as code, what it does as text.
    lines += [f"• `{slack_text.escape(cmd.usage[ctx.language])}` — {slack_text.escape(cmd.about[ctx.language])}"
              for cmd in REGISTRY.commands]
    lines.append(ctx.say(es="Mencióname (@charla ayuda), escríbeme por mensaje directo o usa /charla ayuda.",
                         en="Mention me (@charla help), send me a direct message, or use /charla help."))
    return "\n".join(lines)


@REGISTRY.command("status", es="ve", en="status",
                  usage_es="ve", about_es="estado del bot, la base de datos y las colas",
                  usage_en="status", about_en="health of the bot, database and queues")
def show_status(ctx: CommandContext) -> str:
    from app.ops import health

    db = health.database_check()
    queues = health.queue_depths()
    ok = ctx.say(es="bien", en="ok")
    db_text = f"{ok} ({db.millis:.0f} ms)" if db.ok else ctx.say(es="sin respuesta", en="unreachable")
    if queues is None:
        q_text = ctx.say(es="broker sin respuesta", en="broker unreachable")
    else:
        q_text = ", ".join(f"{name} {depth}" for name, depth in queues.items())
    return ctx.say(es=f"Bot: en marcha · base de datos: {db_text} · colas: {q_text}",
                   en=f"Bot: up · database: {db_text} · queues: {q_text}")


@REGISTRY.command("next", es="siguiente", en="next",
                  usage_es="siguiente", about_es="la próxima cita de la agenda",
                  usage_en="next", about_en="the next item on the agenda")
def show_next(ctx: CommandContext) -> str:
    from app.agenda.selectors import next_item

    item = next_item()
    if item is None:
        return ctx.say(es="No hay nada próximo en la agenda.", en="Nothing upcoming on the agenda.")
    when = item.starts_at.strftime("%Y-%m-%d %H:%M UTC")
    where = f" · {item.location}" if item.location else ""
    link = f"\n{item.url}" if item.url else ""
    return ctx.say(es=f"Próximo: *{item.title}* — {when}{where}{link}",
                   en=f"Next up: *{item.title}* — {when}{where}{link}")


@REGISTRY.command("search", es="busca", en="search",
                  usage_es="busca <texto>", about_es="busca en el catálogo",
                  usage_en="search <text>", about_en="search the catalogue")
def search(ctx: CommandContext) -> str:
    from app.agenda.selectors import search_catalogue

    if not ctx.args:
        return ctx.say(es="¿Qué busco? Por ejemplo: `busca celery`", en="Search for what? For example: `search celery`")
    found = search_catalogue(slack_text.unescape(ctx.args), limit=5)
    # ctx.args arrives from Slack already escaped (&lt; &gt; &amp;): echoed as it came, its tokens as words.
    said = readable(ctx.args)
    if not found:
        return ctx.say(es=f"No encontré nada para «{said}».", en=f"Nothing found for “{said}”.")
    header = ctx.say(es=f"Encontré {len(found)} para «{said}»:", en=f"Found {len(found)} for “{said}”:")
    return "\n".join([header] + [f"• *{slack_text.escape(i.title)}*" + (f" — {i.url}" if i.url else "") for i in found])


@REGISTRY.command("count", es="cuenta", en="count",
                  usage_es="cuenta <@usuario>", about_es="cuántos mensajes ha escrito aquí",
                  usage_en="count <@user>", about_en="how many messages they have written here")
def count_messages(ctx: CommandContext) -> str:
    match = slack_text.USER_MENTION.search(ctx.args)
    if match is None and ctx.args:
        # A name Slack did not turn into a mention is nobody we can count: say so, never count someone else.
        said = readable(ctx.args)
        return ctx.say(es=f"No conozco a «{said}»: menciona con @ a alguien de este espacio, por ejemplo `cuenta @ana`.",
                       en=f"I don't know “{said}”: mention someone in this workspace with @, for example `count @ana`.")
    user = match.group(1) if match else ctx.user
    here = selectors.message_count(ctx.team, user, channel=ctx.channel)
    everywhere = selectors.message_count(ctx.team, user)
    return ctx.say(
        es=f"<@{user}> ha escrito {here} {'mensaje' if here == 1 else 'mensajes'} aquí ({everywhere} en total).",
        en=f"<@{user}> has written {here} {'message' if here == 1 else 'messages'} here ({everywhere} in all).")


@REGISTRY.command("stats", es="estadisticas", en="stats",
                  usage_es="estadisticas", about_es="cuántas veces se usó cada comando",
                  usage_en="stats", about_en="how often each command was used")
def show_stats(ctx: CommandContext) -> str:
    usage = selectors.command_usage(ctx.team)
    if not usage:
        return ctx.say(es="Todavía nadie ha usado ningún comando.", en="No command has been used yet.")
    names = {c.key: c.names[ctx.language] for c in REGISTRY.commands}
    parts = [f"{names.get(key, key)} {n}" for key, n in usage]
    return ctx.say(es="Uso de comandos: ", en="Command use: ") + " · ".join(parts)


def unknown_command(name: str) -> str:
    """The reply to a word that is no command: suggest the closest, in that command's language."""
    closest = REGISTRY.closest(name)
    if closest is None:
        return (f"No conozco «{name}». Prueba `ayuda`. / "
                f"I don't know “{name}”. Try `help`.")
    cmd, language = closest
    suggestion = cmd.names[language]
    if language == "es":
        return f"No conozco «{name}». ¿Querías decir `{suggestion}`? Escribe `ayuda` para ver todos los comandos."
    return f"I don't know “{name}”. Did you mean `{suggestion}`? Type `help` to see every command."


__all__ = ["unknown_command"]
