"""The WSGI entry point gunicorn loads (``peernudge.wsgi:app``)."""

from service import create_app
from service.private_files import restrict_new_files
from service.understanding import may_be_crisis

restrict_new_files()  # an entry point, like the CLI: what the web app creates is private
app = create_app()
# The webhook reads each text for crisis words to put it first in the queue: compile the
# patterns now, in each web process, rather than stall the first text's request.
may_be_crisis("warm up")
