"""The demo agency's prepared answers (``cli seed``, hence ``make run``): a few in each language it serves.

Written through the snippets service as its administrator would (placeholders checked, audited);
one that already exists is left as it is, so an edit made in the console survives a new seed.
"""

from __future__ import annotations

from typing import Any

# (snippet id, language, title, body)
DEMO_SNIPPETS: tuple[tuple[str, str, str, str], ...] = (
    ("appointment-reminder", "en", "Appointment reminder",
     "Hello {first_name}, this is a reminder of your appointment with {case_manager}. "
     "Please bring your ID and any letters you received."),
    ("documents-received", "en", "Documents received",
     "Thank you {first_name}, I received your documents. I will read them and write to you by {next_opening}."),
    ("office-hours", "en", "Office hours",
     "Hi {first_name}, {agency_name} is open Monday to Friday, 9:00 to 5:00. We are next open {next_opening}."),
    ("rappel-rendez-vous", "fr", "Rappel de rendez-vous",
     "Bonjour {first_name}, je vous rappelle votre rendez-vous avec {case_manager}. "
     "Apportez une pièce d'identité et les lettres que vous avez reçues."),
    ("documents-recus", "fr", "Documents reçus",
     "Merci {first_name}, j'ai bien reçu vos documents. Je les lis et je vous écris d'ici {next_opening}."),
    ("heures-ouverture", "fr", "Heures d'ouverture",
     "Bonjour {first_name}, {agency_name} est ouvert du lundi au vendredi, de 9 h à 17 h. "
     "Prochaine ouverture : {next_opening}."),
    ("appointment-reminder-ar", "ar", "تذكير بالموعد",
     "مرحبا {first_name}، هذا تذكير بموعدك مع {case_manager}. يرجى إحضار بطاقة الهوية والرسائل التي وصلتك."),
    ("documents-received-ar", "ar", "استلام المستندات",
     "شكرا {first_name}، وصلتني مستنداتك. سأقرؤها وأكتب لك قبل {next_opening}."),
    ("office-hours-ar", "ar", "ساعات العمل",
     "مرحبا {first_name}، {agency_name} مفتوح من الاثنين إلى الجمعة، من 9 صباحا إلى 5 مساء. "
     "موعد الفتح القادم: {next_opening}."),
)


def seed_snippets(container: Any, admin: Any) -> int:
    """Add the demo snippets the agency lacks (and its seeded holding replies); how many were added."""
    from .services.snippets import PutSnippet

    present = {s.snippet_id for s in container.snippets.list(admin)}  # the first read seeds the holding replies
    added = 0
    for snippet_id, language, title, body in DEMO_SNIPPETS:
        if snippet_id not in present:
            container.snippets.put(admin, PutSnippet.parse(snippet_id, {"title": title, "language": language,
                                                                       "body": body}))
            added += 1
    return added
