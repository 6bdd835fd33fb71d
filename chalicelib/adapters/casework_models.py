"""The tables of a worker's casework beside the messages (issue 22): private case notes and snippets.

Kept apart from ``models.py`` (which lists them in ``ALL_MODELS`` and the access-pattern table) so
that file stays readable; both build on ``model_base``.

Notes have a table of their own, keyed by client with a time-ordered sort key, rather than items in
an existing table: every request for them is "this file's notes, newest first" (one Query, paged by
the sort key), erasure deletes the whole partition without touching anything else, and the
messages table, whose items erasure keeps as anonymous tombstones, never has to tell a note from a
message. Snippets are a small list per agency: one partition per agency, one item per snippet.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from .model_base import TableModel


class NoteModel(TableModel):
    """A private case note: append-only (written with ``attribute_not_exists``), deleted only by erasure."""

    class Meta(TableModel.Meta):
        base_name = "notes"

    client_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<UTC ISO instant>#<note_id>": time order
    note_id = UnicodeAttribute()
    agency_id = UnicodeAttribute()  # every read is also filtered on it: no other agency's note can leave
    author_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    body = UnicodeAttribute()


class SnippetModel(TableModel):
    """An agency's prepared answer; one marker item per agency records that its holding replies were seeded."""

    class Meta(TableModel.Meta):
        base_name = "snippets"

    agency_id = UnicodeAttribute(hash_key=True)
    snippet_id = UnicodeAttribute(range_key=True)
    # Null only on the seeding marker (snippets_repository.SEEDED), which no reader returns.
    title = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)
    version = VersionAttribute()  # every change and deletion is conditioned on the version read
