"""The webhook benchmark's baseline: a bare Flask app returning the same TwiML."""

from flask import Flask, Response

app = Flask(__name__)
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Nice work, Sam. That counts.'
    "</Message></Response>"
)


@app.post("/sms/inbound")
def inbound() -> Response:
    return Response(TWIML, mimetype="text/xml")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
