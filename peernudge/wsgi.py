"""The WSGI entry point gunicorn loads (``peernudge.wsgi:app``)."""

from service import create_app
from service.private_files import restrict_new_files

restrict_new_files()  # an entry point, like the CLI: what the web app creates is private
app = create_app()
