from django.contrib import admin

from app.console.models import ConsoleUser


@admin.register(ConsoleUser)
class ConsoleUserAdmin(admin.ModelAdmin):
    list_display = ("name", "user_id", "last_seen")
    search_fields = ("name", "user_id")
