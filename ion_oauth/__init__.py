"""Log in with Ion, the TJHSST Intranet, from a Django site."""

__version__ = "0.1.0"
