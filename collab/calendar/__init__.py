"""The calendar: events with attendees, recurrence, conflicts, reminders, overlays and iCalendar feeds."""
