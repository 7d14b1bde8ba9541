"""`hedui serve`: the review page for county and township staff (Flask, Jinja2, no JVM).

``app.py`` the routes; ``data.py`` the warehouse read with delta-rs and Arrow;
``accounts.py`` users, scopes, passwords, lockout (``meta/users``); ``audit.py`` the
audit trail (``meta/audit``); ``outcomes.py`` outcomes as feedback files in the landing
zone; ``deltars.py`` the delta-rs reads and writes; ``templates/`` and ``static/``.
"""
