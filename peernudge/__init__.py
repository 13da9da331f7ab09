"""How each PeerNudge process starts: the ``peernudge`` command and gunicorn's app.

The one package that may import both :mod:`service` (the app, the domain and
its infrastructure) and :mod:`workers` (the jobs and the planner loop); neither
of those imports this one (see ``.importlinter``).
"""
