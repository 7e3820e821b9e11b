"""Bilingual (French/English) retrieval assistant over good practices in migration governance."""

__version__ = "0.1.0"
