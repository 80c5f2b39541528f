"""WhatsApp through the same Twilio webhook, and photos or voice notes without text."""

from __future__ import annotations

from bot import store
from tests.fake_twilio import TEMPLATE_SID, WHATSAPP_FROM
from tests.helpers import (
    HOTLINE,
    PASSWORD,
    delivered,
    logged_in,
    messages,
    page,
    post,
    reply,
    row_for,
    texts,
)

WA_NUMBER = "+5215550001234"
WA = f"whatsapp:{WA_NUMBER}"


def test_whatsapp_is_a_channel_of_its_own(send_sms, redis_client):
    text = reply(send_sms("necesito ayuda, mi patrón tiene mi pasaporte", sender=WA))
    assert HOTLINE in text and ("á" in text or "í" in text)  # Unicode kept: no SMS segments here
    conv = store.conversation(redis_client, f"whatsapp:{WA_NUMBER}")
    assert (conv["channel"], conv["address"], conv["language"]) == ("whatsapp", WA_NUMBER, "es")
    assert not store.conversation(redis_client, f"sms:{WA_NUMBER}")  # the SMS one is another
    assert store.queue(redis_client)[0]["cid"] == f"whatsapp:{WA_NUMBER}"


def test_opt_out_keywords_work_on_whatsapp(send_sms, redis_client):
    send_sms("hola", sender=WA)
    assert "START" in reply(send_sms("STOP", sender=WA))
    assert messages(send_sms("hola otra vez", sender=WA)) == []
    assert redis_client.exists(store.optout_key(f"whatsapp:{WA_NUMBER}"))


def test_a_voice_note_without_text_is_acknowledged_and_queued_high(send_sms, redis_client):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
    text = reply(send_sms("", NumMedia="1", MediaContentType0="audio/ogg", MediaUrl0=url))
    assert HOTLINE in text and "911" in text
    cid = "sms:+15550001111"
    (entry,) = [e for e in store.transcript(redis_client, cid) if e.direction == "in"]
    assert entry.meta["media"] == [{"type": "audio/ogg", "url": url}]
    assert store.conversation(redis_client, cid)["priority"] == "high"


def test_media_is_acknowledged_in_the_conversation_language(send_sms, redis_client):
    send_sms("hola, necesito ayuda por favor")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM2/Media/ME2"
    text = reply(send_sms("", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0=url))
    assert "foto" in text.lower() or "mensaje" in text.lower(), text


def test_a_held_whatsapp_conversation_gets_the_alert_reply_on_whatsapp(
    fake_twilio, app, send_sms, monkeypatch
):
    monkeypatch.setattr(store, "HELD_ALERT_SECONDS", 0)
    send_sms("hello", sender=WA)
    store.claim(app.redis, f"whatsapp:{WA_NUMBER}", "alice")
    assert messages(send_sms("he has a gun, he is going to kill me", sender=WA)) == []
    app.extensions["upkeep"].run_once()
    (sent,) = fake_twilio.messages
    assert (sent["To"], sent["From"]) == (WA, WHATSAPP_FROM)
    assert "911" in sent["Body"]


def test_the_template_goes_out_as_a_content_sid(fake_twilio, app):
    outbound = app.extensions["outbound"]
    outbound.send(f"whatsapp:{WA_NUMBER}", WA_NUMBER, "", key="t1", template=True)
    (sent,) = fake_twilio.messages
    assert (sent["To"], sent["ContentSid"]) == (WA, TEMPLATE_SID)
    assert "Body" not in sent


def whatsapp_held_by_alice(app, send_sms, ago: float = 0):
    from bot import accounts

    accounts.create(app.redis, "alice", PASSWORD)
    texts(app, WA_NUMBER, "necesito ayuda", ago=ago, channel="whatsapp")
    alice = logged_in(app, "alice")
    ref = row_for(alice, WA_NUMBER[-4:])["ref"]
    return alice, ref


def test_an_operator_answers_on_whatsapp_inside_the_24_hour_window(fake_twilio, app, send_sms):
    alice, ref = whatsapp_held_by_alice(app, send_sms)
    post(alice, f"/console/c/{ref}/claim")
    html = page(alice, f"/console/c/{ref}")
    assert "Reply on WhatsApp" in html and "whatsapp" in html
    response = post(alice, f"/console/c/{ref}/reply", text="Soy Ana. ¿Estás a salvo?", key="b" * 32)
    assert response.status_code == 303
    (sent,) = fake_twilio.messages
    assert (sent["To"], sent["From"], sent["Body"]) == (
        WA,
        WHATSAPP_FROM,
        "Soy Ana. ¿Estás a salvo?",
    )


def test_after_24_hours_only_the_template_goes_out(fake_twilio, app, send_sms):
    alice, ref = whatsapp_held_by_alice(app, send_sms, ago=25 * 3600)
    post(alice, f"/console/c/{ref}/claim")
    assert "Send the template" in page(alice, f"/console/c/{ref}")
    refused = post(alice, f"/console/c/{ref}/reply", text="hola", key="c" * 32, confirm_stale="yes")
    assert refused.status_code == 409 and "24 hours" in refused.get_data(as_text=True)
    assert fake_twilio.messages == []
    sent = post(alice, f"/console/c/{ref}/reply", template="yes", key="d" * 32, confirm_stale="yes")
    assert sent.status_code == 303
    (message,) = fake_twilio.messages
    assert (message["To"], message["ContentSid"]) == (WA, TEMPLATE_SID)
    last = store.transcript(app.redis, f"whatsapp:{WA_NUMBER}")[-1]
    assert last.meta["template"] is True and "template" in last.text


def test_whatsapp_delivery_reports_land_on_the_whatsapp_conversation(
    fake_twilio, app, send_sms, client
):
    alice, ref = whatsapp_held_by_alice(app, send_sms)
    post(alice, f"/console/c/{ref}/claim")
    post(alice, f"/console/c/{ref}/reply", text="hola", key="e" * 32)
    assert delivered(client, fake_twilio.messages[0]["Sid"], WA, WHATSAPP_FROM) == 204
    assert "delivered" in page(alice, f"/console/c/{ref}")
