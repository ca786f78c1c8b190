from django.contrib import admin

from app.bot.models import Announcement, ChannelPace, CommandUse, DeadLetter, InboundEvent, Message, Reply


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


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("created_at", "source", "key", "reason", "attempts")
    list_filter = ("source",)
    search_fields = ("key", "reason", "payload")
    readonly_fields = ("created_at", "source", "key", "reason", "detail", "payload", "attempts")


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("created_at", "source", "key", "reply")
    list_filter = ("source",)
    search_fields = ("key",)
