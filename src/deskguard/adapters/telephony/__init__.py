"""Telephony adapters."""
