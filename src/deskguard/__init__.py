"""deskguard: a security broker and detection engine for IT helpdesks.

See DESIGN.md (shared) and docs/architecture.md for how the layers fit together.
"""

__version__ = "0.1.0"
