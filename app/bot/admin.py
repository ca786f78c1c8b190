from django.contrib import admin

from app.bot.models import ChannelPace, CommandUse, InboundEvent, Message, Reply


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("key", "received_at", "processed_at", "parked")
    list_filter = ("parked",)
    search_fields = ("key",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("posted_at", "team", "channel", "user", "is_bot", "text", "edited_at", "deleted_at")
    list_filter = ("is_bot", "channel")
    search_fields = ("text", "user", "channel")


@admin.register(CommandUse)
class CommandUseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "command", "name_used", "language", "via", "user", "channel")
    list_filter = ("command", "language", "via")


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "status", "attempts", "error", "sent_at")
    list_filter = ("status",)
    search_fields = ("text", "error")


@admin.register(ChannelPace)
class ChannelPaceAdmin(admin.ModelAdmin):
    list_display = ("team", "channel", "next_free_at")
