"""PynamoDB models: every table CMDM keeps, keyed for the requests that read it.

Access patterns (each is a GetItem or a Query; nothing on a request path scans):

| request path                                   | table / index                 | key                                   |
|------------------------------------------------|-------------------------------|---------------------------------------|
| staff token -> staff record                    | staff                         | GetItem agency_id, staff_id           |
| agency's supervisors (escalation)              | staff                         | Query agency_id                       |
| PUT /staff, a member's absences (change)       | staff                         | GetItem agency_id, staff_id (consistent); conditional update on version |
| inbound `To` -> work number, worker, agency    | numbers                       | GetItem number                        |
| worker's number for a channel (outbound)       | numbers / by_staff            | Query agency_staff (sparse: assigned numbers) |
| PUT /numbers: the number's registration        | numbers                       | GetItem number; update conditioned on agency_id |
| operator: an agency's registered numbers (cli) | numbers / by_agency           | Query agency_id                       |
| inbound `From` -> client file                  | contacts                      | GetItem contact_key (agency#chan#e164)|
| GET /clients/{id}                              | clients                       | GetItem client_id                     |
| GET /clients[?filter=] (a case manager/agency)| clients / [agency_]caseload[_state] | Query agency_staff, agency_id or agency#[staff#]state (one per state), last_activity_at desc; BatchGet |
| GET /clients?q= (worker / agency)              | client_search / by_staff_term | Query agency#staff#term / agency#term; BatchGet clients |
| a worker's clients (re-assignment, follow-ups) | clients / by_case_manager     | Query agency_staff                    |
| an agency's clients (usage report)             | clients / by_agency           | Query agency_id, created_at range     |
| clients due a follow-up                        | clients / followups_due       | Query followup_agency, next_followup_at <= now (sparse) |
| clients due a monthly check-in                 | clients / checkins_due        | Query checkin_agency, next_checkin_at <= now (sparse) |
| clients due a satisfaction survey              | clients / surveys_due         | Query survey_agency, next_survey_at <= now (sparse) |
| closed files past retention (erase_expired)    | clients / closed_files        | Query agency_id, closed_at <= cutoff (sparse: only closed files carry closed_at) |
| ended files past retention (erase_expired)     | clients / ended_files         | Query agency_id, ended_at <= cutoff (sparse: closed, withdrawn or opted out) |
| GET /inbox (clients waiting for an answer)     | clients / waiting             | Query agency_staff, open_inquiry_due_at asc (sparse: only files with an open inquiry carry open_inquiry_due_at; one Query per case manager) |
| GET /clients/{id}/messages                     | messages                      | Query client_id (sk = at#id, oldest first) |
| status callback -> outbound message            | messages / by_sid             | Query twilio_sid (sparse)             |
| held / retrying outbound due now (sweep)       | messages / outbound_due       | Query due_agency, due_at <= now (sparse) |
| once-only claims (MessageSid, reply per period)| claims                        | conditional Put claim_key (TTL)       |
| refused messages still at Twilio (clean-up job)| claims / twilio_due           | Query twilio_queue, twilio_due_at <= now (sparse) |
| an Idempotency-Key's request fingerprint       | claims                        | GetItem claim_key (send#message_id)   |
| client's open inquiry                          | inquiries                     | GetItem inquiry_id (id kept on client)|
| GET /inquiries (worker)                        | inquiries / by_staff_status   | Query agency#staff#status, due_at asc |
| GET /inquiries (supervisor), sweep breaches    | inquiries / by_agency_status  | Query agency#status, due_at asc / <= now |
| compliance report                              | inquiries / by_agency_opened  | Query agency_id, opened_at range      |
| GET /audit by agency and time                  | audit                         | Query agency_id, sk between           |
| GET /audit?staff_id                            | audit / by_staff              | Query agency_staff, sk between        |
| export of one file, GET /audit?client_id       | audit / by_client             | Query client_id (, sk between)        |
| export of one file: its inquiries              | inquiries / by_client         | Query client_id, opened_at asc        |
| GET /notifications                             | notifications                 | Query recipient (agency#staff)        |
| unread count, mark all read (per person, type) | notifications / unread        | Query unread_for (sparse, KEYS_ONLY), COUNT |
| PUT /notifications/{id}, a review settling one | notifications                 | UpdateItem recipient, sk (the id carries the sk's instant) |
| GET /followups                                 | followups                     | Query agency_staff                    |
| usage report counters                          | counters                      | Query counter_key, day range          |
| GET /posts/{id} (progress)                     | posts                         | GetItem post_id                       |
| posts waiting for the opening or a retry       | posts / posts_due             | Query due_agency, due_at <= now (sparse) |
| a post's recipients still to send              | post_deliveries               | Query post_id (status filtered)       |
| one recipient's delivery (exactly once)        | post_deliveries               | GetItem post_id, client_id; conditional update on version |
| GET /clients/{id}/notes (newest first, paged)  | notes                         | Query client_id, sk < cursor, descending (casework_models.py) |
| export and erasure of one file's notes         | notes                         | Query client_id (all pages)           |
| GET /snippets, a conversation's snippets       | snippets                      | Query agency_id                       |
| PUT / DELETE /snippets/{id}                    | snippets                      | GetItem agency_id, snippet_id (consistent); write conditioned on version |
| live updates: ticket, connect, gone; who hears | live_connections (/ agency_wide, by_staff) | Get/Put/Delete connection_id (TTL); Query agency_wide (sparse), agency_staff |

Table names are ``CMDM_TABLE_PREFIX`` + the base name below; ``configure`` applies them.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from .casework_models import NoteModel, SnippetModel
from .live_models import LiveConnectionModel
from .model_base import CONNECTION_SETTINGS as _connection_settings
from .model_base import TableModel as _Base
from .model_base import index_meta as _index_meta
from .model_base import transaction_connection  # noqa: F401  (re-exported: the unit of work's connection)

# --- staff -------------------------------------------------------------------------------------


class AbsenceMap(MapAttribute):
    absence_id = UnicodeAttribute()
    start = UnicodeAttribute()  # agency-local date, inclusive
    end = UnicodeAttribute()  # agency-local date, inclusive
    cover_id = UnicodeAttribute()
    note = UnicodeAttribute(null=True)


class StaffModel(_Base):
    class Meta(_Base.Meta):
        base_name = "staff"

    agency_id = UnicodeAttribute(hash_key=True)
    staff_id = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    absences = ListAttribute(of=AbsenceMap, default=list)
    active = BooleanAttribute(null=True)  # False: deactivated, no access (missing on old items: active)
    phone = UnicodeAttribute(null=True)  # E.164, the worker's own phone (calls); never shown to clients
    # Every change of the member or of their absences is conditioned on the version read (missing on
    # old items: read as 0, and the first change conditions on its absence).
    version = VersionAttribute()


# --- work numbers ------------------------------------------------------------------------------


class NumbersByStaff(GlobalSecondaryIndex):
    Meta = _index_meta("by_staff")
    agency_staff = UnicodeAttribute(hash_key=True)
    number = UnicodeAttribute(range_key=True)


class NumbersByAgency(GlobalSecondaryIndex):
    Meta = _index_meta("by_agency")
    agency_id = UnicodeAttribute(hash_key=True)
    number = UnicodeAttribute(range_key=True)


class NumberModel(_Base):
    """One item per Twilio number an operator registered to an agency (``cli numbers register``);
    the worker fields are set once the agency's admin assigns it (``PUT /numbers/{number}``)."""

    class Meta(_Base.Meta):
        base_name = "numbers"

    number = UnicodeAttribute(hash_key=True)  # E.164, without any channel prefix
    agency_id = UnicodeAttribute()  # the agency it is registered to: the only one whose admin may assign it
    registered_at = UTCDateTimeAttribute(null=True)  # missing on numbers assigned before registration existed
    staff_id = UnicodeAttribute(null=True)  # the worker holding it; missing while nobody does
    agency_staff = UnicodeAttribute(null=True)
    channels = UnicodeSetAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    # Workers whose clients a re-assignment has still to move (written with the number, removed once
    # every client has moved): a failed move is finished by the retry, never left half done.
    moving_from = UnicodeSetAttribute(null=True)
    by_staff = NumbersByStaff()
    by_agency = NumbersByAgency()


# --- clients -----------------------------------------------------------------------------------


class ConsentMap(MapAttribute):
    state = UnicodeAttribute(default="none")
    form_version = UnicodeAttribute(null=True)
    signed_at = UTCDateTimeAttribute(null=True)
    channels = ListAttribute(of=UnicodeAttribute, default=list)
    circle_of_care = ListAttribute(of=UnicodeAttribute, default=list)
    posts = BooleanAttribute(null=True)  # agrees to information posts (SPEC §5.8); absent = no
    recorded_at = UTCDateTimeAttribute(null=True)
    recorded_by = UnicodeAttribute(null=True)
    withdrawn_at = UTCDateTimeAttribute(null=True)
    withdrawn_reason = UnicodeAttribute(null=True)


class ReferralMap(MapAttribute):
    referral_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute(null=True)
    to = UnicodeAttribute(null=True)  # removed by erasure
    service = UnicodeAttribute(null=True)  # removed by erasure
    note = UnicodeAttribute(null=True)  # removed by erasure


class ClientsByCaseManager(GlobalSecondaryIndex):
    Meta = _index_meta("by_case_manager")
    agency_staff = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ClientsByAgency(GlobalSecondaryIndex):
    Meta = _index_meta("by_agency")
    agency_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ClientsFollowupsDue(GlobalSecondaryIndex):
    # Sparse: only files that can receive a follow-up carry followup_agency, so a run reads
    # the clients that are due and nothing else.
    Meta = _index_meta("followups_due", KeysOnlyProjection())
    followup_agency = UnicodeAttribute(hash_key=True)
    next_followup_at = UTCDateTimeAttribute(range_key=True)


class ClientsCheckinsDue(GlobalSecondaryIndex):
    # Sparse, like followups_due: only reachable files of agencies with monthly check-ins.
    Meta = _index_meta("checkins_due", KeysOnlyProjection())
    checkin_agency = UnicodeAttribute(hash_key=True)
    next_checkin_at = UTCDateTimeAttribute(range_key=True)


class ClientsSurveysDue(GlobalSecondaryIndex):
    # Sparse: only reachable files carry survey_agency.
    Meta = _index_meta("surveys_due", KeysOnlyProjection())
    survey_agency = UnicodeAttribute(hash_key=True)
    next_survey_at = UTCDateTimeAttribute(range_key=True)


class ClientsClosed(GlobalSecondaryIndex):
    # Sparse: a file is in this index only while it carries closed_at, i.e. while it is closed
    # (closing sets it, re-opening removes it: clients_repository.closing_changes / reopening_changes).
    # The retention job reads closed_at <= now - retention per agency; status and erased_at are
    # projected so already-erased tombstones are skipped without a second read.
    Meta = _index_meta("closed_files", IncludeProjection(["erased_at", "status"]))
    agency_id = UnicodeAttribute(hash_key=True)
    closed_at = UTCDateTimeAttribute(range_key=True)


class ClientsWaiting(GlobalSecondaryIndex):
    # Sparse: a file is in this index only while it has an open inquiry (open_inquiry_due_at is
    # set when the inquiry opens and removed when it is answered), soonest due first. It carries
    # what the inbox shows, so the inbox is one Query per case manager however big the caseload.
    Meta = _index_meta("waiting", IncludeProjection([
        "case_manager_id", "name", "channel", "language", "status", "opted_out", "erased_at",
        "open_inquiry_id", "open_inquiry_opened_at", "last_inbound_at", "last_inbound_preview", "crisis_at",
    ]))
    agency_staff = UnicodeAttribute(hash_key=True)
    open_inquiry_due_at = UTCDateTimeAttribute(range_key=True)


def _keys_index(index_name: str, hash_name: str, range_name: str, range_type: type = UnicodeAttribute) -> Any:
    """A keys-only index (GET /clients, issue 22: erasure removes their keys, so erased files leave)."""
    body = {"Meta": _index_meta(index_name, KeysOnlyProjection()), hash_name: UnicodeAttribute(hash_key=True),
            range_name: range_type(range_key=True)}
    return type(index_name, (GlobalSecondaryIndex,), body)()


class ClientsEnded(GlobalSecondaryIndex):
    # Sparse: a file is here while it carries ended_at, i.e. while it is closed, its consent is
    # withdrawn or its client opted out (SPEC §5.7); clients_repository.with_ended_at keeps it current.
    Meta = _index_meta("ended_files", IncludeProjection(["erased_at", "status"]))
    agency_id = UnicodeAttribute(hash_key=True)
    ended_at = UTCDateTimeAttribute(range_key=True)


class ClientModel(_Base):
    class Meta(_Base.Meta):
        base_name = "clients"

    client_id = UnicodeAttribute(hash_key=True)
    agency_id = UnicodeAttribute()
    case_manager_id = UnicodeAttribute()
    agency_staff = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)  # null once erased
    channel = UnicodeAttribute()
    language = UnicodeAttribute()
    name = UnicodeAttribute(null=True)  # null once erased
    status = UnicodeAttribute(default="active")
    status_reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    consent = ConsentMap(default=dict)
    opted_out = BooleanAttribute(default=False)
    opted_out_at = UTCDateTimeAttribute(null=True)
    open_inquiry_id = UnicodeAttribute(null=True)
    open_inquiry_due_at = UTCDateTimeAttribute(null=True)
    open_inquiry_opened_at = UTCDateTimeAttribute(null=True)  # for the inbox's "waited"
    last_inbound_at = UTCDateTimeAttribute(null=True)
    last_inbound_preview = UnicodeAttribute(null=True)  # the start of the last client message (inbox)
    last_outbound_at = UTCDateTimeAttribute(null=True)
    last_auto_reply_period = UnicodeAttribute(null=True)
    followup_agency = UnicodeAttribute(null=True)
    next_followup_at = UTCDateTimeAttribute(null=True)
    checkin_agency = UnicodeAttribute(null=True)  # present only while in checkins_due
    next_checkin_at = UTCDateTimeAttribute(null=True)
    survey_agency = UnicodeAttribute(null=True)  # present only while in surveys_due
    next_survey_at = UTCDateTimeAttribute(null=True)
    last_survey_at = UTCDateTimeAttribute(null=True)
    last_survey_scored_at = UTCDateTimeAttribute(null=True)
    warnings = NumberAttribute(default=0)
    flagged_for_meeting = BooleanAttribute(default=False)
    erased_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)  # present only while in ended_files
    referrals = ListAttribute(of=ReferralMap, null=True)  # SPEC §5.8; part of the file
    # GET /clients (clients_repository.caseload_actions); state_*: "<agency>[#<staff>]#<FileState>"
    last_activity_at = UTCDateTimeAttribute(null=True)
    state_staff = UnicodeAttribute(null=True)
    state_agency = UnicodeAttribute(null=True)
    search_terms = UnicodeSetAttribute(null=True)  # the client_search items this file has
    crisis_at = UTCDateTimeAttribute(null=True)  # SPEC §5.9: the open inquiry is a crisis; goes with it
    emergency_contact = MapAttribute(null=True)  # {"name", "phone", "relation"}; removed by erasure
    version = VersionAttribute()

    by_case_manager = ClientsByCaseManager()
    by_agency = ClientsByAgency()
    followups_due = ClientsFollowupsDue()
    checkins_due = ClientsCheckinsDue()
    surveys_due = ClientsSurveysDue()
    closed_files = ClientsClosed()
    ended_files = ClientsEnded()
    waiting = ClientsWaiting()
    caseload = _keys_index("caseload", "agency_staff", "last_activity_at", UTCDateTimeAttribute)
    agency_caseload = _keys_index("agency_caseload", "agency_id", "last_activity_at", UTCDateTimeAttribute)
    caseload_state = _keys_index("caseload_state", "state_staff", "last_activity_at", UTCDateTimeAttribute)
    agency_state = _keys_index("agency_state", "state_agency", "last_activity_at", UTCDateTimeAttribute)


class ContactModel(_Base):
    """One item per (agency, channel, phone): routes inbound ``From`` and keeps files unique."""

    class Meta(_Base.Meta):
        base_name = "contacts"

    contact_key = UnicodeAttribute(hash_key=True)
    client_id = UnicodeAttribute()
    agency_id = UnicodeAttribute()


class SearchModel(_Base):
    """One item per search term of a file (domain.caseload.search_terms; issue 22): written with it,
    moved with its case manager, deleted by erasure. A search is one Query, whatever the caseload."""

    class Meta(_Base.Meta):
        base_name = "client_search"

    term_key = UnicodeAttribute(hash_key=True)  # "<agency>#<term>"
    client_id = UnicodeAttribute(range_key=True)
    staff_term = UnicodeAttribute()  # "<agency>#<case manager>#<term>"
    by_staff_term = _keys_index("by_staff_term", "staff_term", "client_id")


# --- messages ----------------------------------------------------------------------------------


class MediaMap(MapAttribute):
    content_type = UnicodeAttribute()
    s3_key = UnicodeAttribute(null=True)  # null until copied from Twilio
    twilio_url = UnicodeAttribute(null=True)  # cleared once the copy is made and Twilio's deleted
    status = UnicodeAttribute(default="pending")  # pending | stored | failed
    attempts = NumberAttribute(default=0)
    size = NumberAttribute(null=True)


class LocationMap(MapAttribute):
    latitude = NumberAttribute()
    longitude = NumberAttribute()
    address = UnicodeAttribute(null=True)
    label = UnicodeAttribute(null=True)


class ButtonMap(MapAttribute):
    text = UnicodeAttribute(null=True)
    payload = UnicodeAttribute(null=True)


class MessagesBySid(GlobalSecondaryIndex):
    Meta = _index_meta("by_sid", KeysOnlyProjection())
    twilio_sid = UnicodeAttribute(hash_key=True)


class MessagesOutboundDue(GlobalSecondaryIndex):
    # Sparse: present only while a message waits to be sent (held after hours, retry pending)
    # or media waits to be copied; the sweep queries due_at <= now per agency.
    Meta = _index_meta("outbound_due", KeysOnlyProjection())
    due_agency = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class MessageModel(_Base):
    class Meta(_Base.Meta):
        base_name = "messages"

    client_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<UTC ISO instant>#<message_id>": oldest first
    message_id = UnicodeAttribute()
    agency_id = UnicodeAttribute()
    direction = UnicodeAttribute()  # inbound | outbound
    kind = UnicodeAttribute()  # client | staff | auto_reply | followup | checkin | survey | notice | post | call
    body = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    channel = UnicodeAttribute()
    staff_id = UnicodeAttribute(null=True)
    from_number = UnicodeAttribute(null=True)  # the work number used or received on
    inquiry_id = UnicodeAttribute(null=True)
    twilio_sid = UnicodeAttribute(null=True)
    media = ListAttribute(of=MediaMap, default=list)
    send_at = UTCDateTimeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    holding = BooleanAttribute(default=False)
    override_reason = UnicodeAttribute(null=True)
    template = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    error_code = UnicodeAttribute(null=True)
    due_agency = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    # What a client message carries beyond body and media (SPEC §4.4); erased with the body.
    location = LocationMap(null=True)
    button = ButtonMap(null=True)
    forwarded = BooleanAttribute(null=True)
    frequently_forwarded = BooleanAttribute(null=True)
    message_type = UnicodeAttribute(null=True)
    # A call (kind ``call``, SPEC §5.10): its status (``domain.calls.CallStatus``) and length.
    call_status = UnicodeAttribute(null=True)
    duration_seconds = NumberAttribute(null=True)
    crisis = BooleanAttribute(null=True)  # read as a crisis (its words, or a worker's mark; SPEC §5.9)
    version = VersionAttribute()

    by_sid = MessagesBySid()
    outbound_due = MessagesOutboundDue()


class ClaimsTwilioDue(GlobalSecondaryIndex):
    # Sparse: present only on the marker of a refused message whose body and media Twilio still
    # holds (``twilio#<MessageSid>``); the clean-up job queries twilio_due_at <= now.
    Meta = _index_meta("twilio_due")
    twilio_queue = UnicodeAttribute(hash_key=True)
    twilio_due_at = UTCDateTimeAttribute(range_key=True)


class ClaimModel(_Base):
    """Once-only markers: a MessageSid filed, an auto-reply per closed period, a follow-up per week.

    Written with ``attribute_not_exists`` so the second writer loses; expired by TTL. A refused
    message's marker (``twilio#<MessageSid>``) also says what is left to clear at Twilio: the
    media items by their SIDs, and the body; it goes when Twilio's copy is gone.
    """

    class Meta(_Base.Meta):
        base_name = "claims"

    claim_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute()
    ref = UnicodeAttribute(null=True)
    # An idempotency key's request, as a digest (never the request itself): a reuse of the key
    # for another request is refused. Claims written before it have none.
    fingerprint = UnicodeAttribute(null=True)
    count = NumberAttribute(null=True)  # sending-rate buckets (posts): sends taken in one second
    expires_at = TTLAttribute(null=True)
    twilio_queue = UnicodeAttribute(null=True)
    twilio_due_at = UTCDateTimeAttribute(null=True)
    media_sids = ListAttribute(of=UnicodeAttribute, null=True)
    attempts = NumberAttribute(null=True)

    twilio_due = ClaimsTwilioDue()


# --- inquiries ---------------------------------------------------------------------------------


class InquiriesByStaffStatus(GlobalSecondaryIndex):
    Meta = _index_meta("by_staff_status")
    staff_status = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class InquiriesByAgencyStatus(GlobalSecondaryIndex):
    Meta = _index_meta("by_agency_status")
    agency_status = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class InquiriesByAgencyOpened(GlobalSecondaryIndex):
    Meta = _index_meta("by_agency_opened")
    agency_id = UnicodeAttribute(hash_key=True)
    opened_at = UTCDateTimeAttribute(range_key=True)


class InquiriesByClient(GlobalSecondaryIndex):
    Meta = _index_meta("by_client")
    client_id = UnicodeAttribute(hash_key=True)
    opened_at = UTCDateTimeAttribute(range_key=True)


class InquiryModel(_Base):
    class Meta(_Base.Meta):
        base_name = "inquiries"

    inquiry_id = UnicodeAttribute(hash_key=True)
    agency_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    staff_id = UnicodeAttribute()  # who holds the clock now (case manager or covering colleague)
    status = UnicodeAttribute()  # open | answered | breached | opted_out
    staff_status = UnicodeAttribute()
    agency_status = UnicodeAttribute()
    opened_at = UTCDateTimeAttribute()
    due_at = UTCDateTimeAttribute()
    message_count = NumberAttribute(default=1)
    answered_at = UTCDateTimeAttribute(null=True)
    answered_by = UnicodeAttribute(null=True)
    answered_late = BooleanAttribute(default=False)
    first_response_business_seconds = NumberAttribute(null=True)
    complex = BooleanAttribute(default=False)
    breached_at = UTCDateTimeAttribute(null=True)
    # SPEC §5.2: the first response (a holding reply meets it) apart from the answer, and which
    # staff message gave each, so a failed delivery can take them back.
    first_response_at = UTCDateTimeAttribute(null=True)
    first_response_late = BooleanAttribute(default=False)
    first_response_message_id = UnicodeAttribute(null=True)
    answer_message_id = UnicodeAttribute(null=True)
    first_due_at = UTCDateTimeAttribute(null=True)  # due_at as opened, before a holding reply's longer clock
    crisis = BooleanAttribute(default=False)  # SPEC §5.9: received while closed with a crisis word
    ended_at = UTCDateTimeAttribute(null=True)  # left unanswered because the client opted out
    version = VersionAttribute()

    by_staff_status = InquiriesByStaffStatus()
    by_agency_status = InquiriesByAgencyStatus()
    by_agency_opened = InquiriesByAgencyOpened()
    by_client = InquiriesByClient()


# --- supervision -------------------------------------------------------------------------------


class AuditByStaff(GlobalSecondaryIndex):
    Meta = _index_meta("by_staff")
    agency_staff = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class AuditByClient(GlobalSecondaryIndex):
    Meta = _index_meta("by_client")
    client_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class AuditModel(_Base):
    """Append-only: written with ``attribute_not_exists``; nothing updates or deletes it."""

    class Meta(_Base.Meta):
        base_name = "audit"

    agency_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<UTC ISO instant>#<event_id>"
    event_id = UnicodeAttribute()
    type = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()  # staff id, "client" or "system"
    agency_staff = UnicodeAttribute(null=True)
    client_id = UnicodeAttribute(null=True)
    details = MapAttribute(default=dict)

    by_staff = AuditByStaff()
    by_client = AuditByClient()


class NotificationsUnread(GlobalSecondaryIndex):
    # Sparse: a notification carries unread_for (its recipient) only while unread, so counting a
    # person's unread ones (all, or of one type: unread_key begins with "<type>#") reads those alone.
    Meta = _index_meta("unread", KeysOnlyProjection())
    unread_for = UnicodeAttribute(hash_key=True)
    unread_key = UnicodeAttribute(range_key=True)  # "<type>#<sk>"


class NotificationModel(_Base):
    class Meta(_Base.Meta):
        base_name = "notifications"

    recipient = UnicodeAttribute(hash_key=True)  # agency#staff
    sk = UnicodeAttribute(range_key=True)  # "<UTC ISO instant>#<id>"
    type = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    client_id = UnicodeAttribute(null=True)
    inquiry_id = UnicodeAttribute(null=True)
    message = UnicodeAttribute()
    read = BooleanAttribute(default=False)
    staff_id = UnicodeAttribute(null=True)  # the colleague it is about
    unread_for = UnicodeAttribute(null=True)
    unread_key = UnicodeAttribute(null=True)
    unread = NotificationsUnread()


class FollowupModel(_Base):
    class Meta(_Base.Meta):
        base_name = "followups"

    agency_staff = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<UTC ISO instant>#<client_id>"
    client_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # followup | checkin | survey
    at = UTCDateTimeAttribute()
    message_sk = UnicodeAttribute()
    replied_at = UTCDateTimeAttribute(null=True)
    score = NumberAttribute(null=True)


class PostsDue(GlobalSecondaryIndex):
    # Sparse: a post is here while recipients wait (not yet sent, or retrying after a 429); the
    # ``send_posts`` job Queries due_agency, due_at <= now.
    Meta = _index_meta("posts_due", KeysOnlyProjection())
    due_agency = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class PostModel(_Base):
    """An information post (SPEC §5.8) and its progress, counted in the same writes as each delivery."""

    class Meta(_Base.Meta):
        base_name = "posts"

    post_id = UnicodeAttribute(hash_key=True)
    agency_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    scope = UnicodeAttribute()  # caseload | agency
    body = UnicodeAttribute(null=True)
    languages = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    send_at = UTCDateTimeAttribute()
    recipients = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    due_agency = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)

    posts_due = PostsDue()


class PostDeliveryModel(_Base):
    """One recipient of a post: moves pending/queued -> sending -> sent | failed | skipped, once."""

    class Meta(_Base.Meta):
        base_name = "post_deliveries"

    post_id = UnicodeAttribute(hash_key=True)
    client_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    retry_at = UTCDateTimeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    message_sk = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    version = VersionAttribute()


class CounterModel(_Base):
    """Pre-aggregated daily counters for reports, bumped with atomic ADD in the same writes."""

    class Meta(_Base.Meta):
        base_name = "counters"

    counter_key = UnicodeAttribute(hash_key=True)  # "<agency>#<staff or *>"
    day = UnicodeAttribute(range_key=True)  # agency-local YYYY-MM-DD
    counts = MapAttribute(default=dict)


ALL_MODELS: tuple[type[_Base], ...] = (
    StaffModel,
    NumberModel,
    ClientModel,
    ContactModel,
    SearchModel,
    MessageModel,
    ClaimModel,
    InquiryModel,
    AuditModel,
    NotificationModel,
    FollowupModel,
    CounterModel,
    PostModel,
    PostDeliveryModel,
    NoteModel,
    SnippetModel,
    LiveConnectionModel,
)

def configure(table_prefix: str, region: str, host: str | None) -> None:
    """Point every model at its table for this stage; cheap, no network.

    Connections are kept when nothing changed: each one owns a botocore client, and building
    a client costs more than most requests.
    """
    for model in ALL_MODELS:
        name = f"{table_prefix}{model.Meta.base_name}"
        if (model.Meta.table_name, model.Meta.region, model.Meta.host) != (name, region, host):
            model.Meta.table_name = name
            model.Meta.region = region
            model.Meta.host = host
            model._connection = None
    _connection_settings.update(region=region, host=host)


def create_tables() -> list[str]:
    """Create every missing table (idempotent); returns the names created now."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
        if any(isinstance(v, TTLAttribute) for v in model.get_attributes().values()):
            model.update_ttl(ignore_update_ttl_errors=True)
    return created
