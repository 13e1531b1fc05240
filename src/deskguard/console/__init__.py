"""The console: server-rendered pages (Jinja2 + htmx) for every role, a transport beside ``api``.

Like the API routes, its pages parse, authenticate (a session cookie instead of a bearer token), call
one use case and render; the decisions live in ``app``. See docs/adr/0011-console.md.
"""
