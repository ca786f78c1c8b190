from django.contrib import admin

from app.agenda.models import AgendaItem, CatalogueItem, FeedStatus


@admin.register(AgendaItem)
class AgendaItemAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "ends_at", "location", "uid", "updated_at")
    search_fields = ("title", "uid", "location", "description")
    list_filter = ("starts_at",)
    date_hierarchy = "starts_at"
    readonly_fields = ("updated_at",)


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "tags", "url")
    # search_text is accent-free, so it finds "Café" from "cafe" as the bot does.
    search_fields = ("title", "slug", "tags", "search_text")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("search_text",)


@admin.register(FeedStatus)
class FeedStatusAdmin(admin.ModelAdmin):
    list_display = ("url", "last_attempt_at", "last_success_at", "consecutive_failures", "item_count", "last_error")
    search_fields = ("url", "last_error")
    readonly_fields = ("url", "last_attempt_at", "last_success_at", "last_error", "consecutive_failures",
                      "item_count")
