"""SHA-256 without OpenSSL: ``hashlib`` loads libcrypto (3.3 MB resident) for digests CPython also builds in."""

try:
    from _sha2 import sha256  # Python 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.10-3.11
    except ImportError:  # an interpreter built without them
        from hashlib import sha256

__all__ = ["sha256"]
