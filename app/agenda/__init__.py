"""The community agenda (upcoming meetups from a JSON/iCalendar feed) and the resource catalogue."""
