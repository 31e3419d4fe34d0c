"""Log in with Ion, the TJHSST Intranet, from a Django site."""

__version__ = "1.0.0"
