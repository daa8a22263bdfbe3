"""Acme Pro (Charter example): importing it checks the license, offline.

A license that is not valid raises acme_pro.LicenseError (an ImportError) naming the cause.
"""
from ._license import LicenseError, LicenseInfo, check_license

LICENSE = check_license()

__all__ = ["LICENSE", "LicenseError", "LicenseInfo"]
