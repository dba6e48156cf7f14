"""OpenSSL's raw RSA private operation (RSADP / RSASP1, RFC 8017 §5.1.2, §5.2.1), through ctypes.

RFC 9474 §4.3 BlindSign is ``s = RSASP1(skS, m)`` on an already-encoded value: no
padding, no hashing. ``cryptography`` exposes no unpadded private operation, so this
module calls the system ``libcrypto`` (OpenSSL 3) directly: ``EVP_PKEY_decrypt`` with
``RSA_NO_PADDING`` computes exactly ``m^d mod n`` and runs OpenSSL's own RSA code —
base blinding with a fresh random value per call, constant-time Montgomery
exponentiation over CRT, and OpenSSL's own CRT fault check — at the speed of its
signing. Two thirds of a blind signature used to be spent in GMP's ``powmod_sec``;
this is why the module exists.

The ``cryptography`` wheel links its own OpenSSL statically and exports none of it, so
the shared library is the system's: ``ctypes.util.find_library("crypto")`` first, then
the names Debian, Fedora, Alpine and macOS use. Only OpenSSL 3 is accepted (older
versions lack several of the functions below as real symbols).

Thread safety: an ``EVP_PKEY`` is immutable once loaded and may be shared by threads;
an ``EVP_PKEY_CTX`` may not, so each thread gets its own context per key (made on first
use, freed when the thread or the key goes). ctypes releases the GIL around each call,
so threads sign in parallel. Every OpenSSL object is freed by its owner's finalizer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "LibcryptoUnavailableError",
    "OpenSSLError",
    "RawRSAPrivateKey",
    "libcrypto",
]

_EVP_PKEY_RSA = 6  # NID_rsaEncryption
_RSA_NO_PADDING = 3
_MIN_VERSION = 0x30000000  # OpenSSL 3.0.0
#: Tried after ``find_library``: Debian/Ubuntu, Fedora/RHEL and Alpine install the
#: versioned name; the unversioned one exists where the -dev package is installed.
LIBRARY_NAMES = ("libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib", "libcrypto.dylib")

_Ptr = ctypes.c_void_p
_Func = Callable[..., Any]


class LibcryptoUnavailableError(Exception):
    """No usable OpenSSL 3 ``libcrypto`` could be loaded; the message says what was tried."""


class OpenSSLError(Exception):
    """An OpenSSL call failed; the message carries OpenSSL's error queue."""


class _Libcrypto:
    """The few libcrypto functions used here, with their C signatures declared."""

    def __init__(self, cdll: ctypes.CDLL, name: str) -> None:
        def fn(symbol: str, restype: Any, *argtypes: Any) -> _Func:
            f = getattr(cdll, symbol)
            f.restype = restype
            f.argtypes = list(argtypes)
            return f

        self.name = name
        version_num = fn("OpenSSL_version_num", ctypes.c_ulong)
        self.version_number: int = version_num()
        if self.version_number < _MIN_VERSION:
            raise LibcryptoUnavailableError(f"{name} is OpenSSL {self.version_number:#x}; OpenSSL 3 is required")
        version_text = fn("OpenSSL_version", ctypes.c_char_p, ctypes.c_int)
        self.version: str = version_text(0).decode("ascii", "replace")
        # EVP_PKEY *d2i_PrivateKey(int type, EVP_PKEY **a, const unsigned char **pp, long length)
        self.d2i_PrivateKey = fn("d2i_PrivateKey", _Ptr, ctypes.c_int, _Ptr, ctypes.POINTER(ctypes.c_char_p),
                                 ctypes.c_long)
        self.EVP_PKEY_get_base_id = fn("EVP_PKEY_get_base_id", ctypes.c_int, _Ptr)
        self.EVP_PKEY_get_size = fn("EVP_PKEY_get_size", ctypes.c_int, _Ptr)
        self.EVP_PKEY_free = fn("EVP_PKEY_free", None, _Ptr)
        self.EVP_PKEY_CTX_new = fn("EVP_PKEY_CTX_new", _Ptr, _Ptr, _Ptr)
        self.EVP_PKEY_CTX_free = fn("EVP_PKEY_CTX_free", None, _Ptr)
        self.EVP_PKEY_decrypt_init = fn("EVP_PKEY_decrypt_init", ctypes.c_int, _Ptr)
        self.EVP_PKEY_CTX_set_rsa_padding = fn("EVP_PKEY_CTX_set_rsa_padding", ctypes.c_int, _Ptr, ctypes.c_int)
        # int EVP_PKEY_decrypt(ctx, unsigned char *out, size_t *outlen, const unsigned char *in, size_t inlen)
        self.EVP_PKEY_decrypt = fn("EVP_PKEY_decrypt", ctypes.c_int, _Ptr, ctypes.c_char_p,
                                   ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, ctypes.c_size_t)
        self.ERR_get_error = fn("ERR_get_error", ctypes.c_ulong)
        self.ERR_error_string_n = fn("ERR_error_string_n", None, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t)

    def error(self, what: str) -> OpenSSLError:
        """An :class:`OpenSSLError` for ``what``, draining this thread's OpenSSL error queue."""
        reasons: list[str] = []
        buf = ctypes.create_string_buffer(256)
        while code := self.ERR_get_error():
            self.ERR_error_string_n(code, buf, len(buf))
            reasons.append(buf.value.decode("ascii", "replace"))
        return OpenSSLError(f"{what} failed" + (f": {'; '.join(reasons)}" if reasons else ""))


_lock = threading.Lock()
_loaded: dict[tuple[str, ...], _Libcrypto | LibcryptoUnavailableError] = {}


def _candidates(names: Sequence[str] | None) -> list[str]:
    if names is not None:
        return list(names)
    found = ctypes.util.find_library("crypto")
    return list(dict.fromkeys([*([found] if found else []), *LIBRARY_NAMES]))


def libcrypto(names: Sequence[str] | None = None) -> _Libcrypto:
    """The system's OpenSSL 3 ``libcrypto``, loaded once per process.

    Parameters
    ----------
    names : sequence of str, optional
        Library names or paths to try in order, instead of ``find_library("crypto")``
        followed by :data:`LIBRARY_NAMES`.

    Raises
    ------
    LibcryptoUnavailableError
        None of the candidates loads as OpenSSL 3; the message lists each and why.
    """
    candidates = _candidates(names)
    key = tuple(candidates)
    with _lock:
        cached = _loaded.get(key)
        if cached is None:
            cached = _load(candidates)
            _loaded[key] = cached
    if isinstance(cached, LibcryptoUnavailableError):
        raise cached
    return cached


def _load(candidates: list[str]) -> _Libcrypto | LibcryptoUnavailableError:
    failures: list[str] = []
    for name in candidates:
        try:
            return _Libcrypto(ctypes.CDLL(name), name)
        except (OSError, AttributeError, LibcryptoUnavailableError) as exc:
            failures.append(f"{name}: {exc}")
    return LibcryptoUnavailableError("no OpenSSL 3 libcrypto could be loaded (" + "; ".join(failures) + ")")


class _Context:
    """One thread's ``EVP_PKEY_CTX`` for one key, set up for unpadded private decryption."""

    __slots__ = ("__weakref__", "ptr")

    def __init__(self, lib: _Libcrypto, pkey: int) -> None:
        ptr = lib.EVP_PKEY_CTX_new(pkey, None)
        if not ptr:
            raise lib.error("EVP_PKEY_CTX_new")
        # The context holds its own reference to the key, so the two may be freed in any order.
        weakref.finalize(self, lib.EVP_PKEY_CTX_free, ptr)
        self.ptr: int = ptr
        if lib.EVP_PKEY_decrypt_init(ptr) != 1 or lib.EVP_PKEY_CTX_set_rsa_padding(ptr, _RSA_NO_PADDING) != 1:
            raise lib.error("EVP_PKEY_decrypt_init with RSA_NO_PADDING")


class RawRSAPrivateKey:
    """An RSA private key loaded into OpenSSL once, for the raw private operation.

    Parameters
    ----------
    der : bytes
        The key as a DER ``RSAPrivateKey`` (PKCS #1, RFC 8017 Appendix A.1.2).
    lib : optional
        A loaded library (:func:`libcrypto`); the default one otherwise.

    Raises
    ------
    LibcryptoUnavailableError
        No libcrypto (only when ``lib`` is not given).
    OpenSSLError
        ``der`` is not an RSA private key OpenSSL accepts.
    """

    __slots__ = ("__weakref__", "_lib", "_local", "_pkey", "modulus_len")

    def __init__(self, der: bytes, lib: _Libcrypto | None = None) -> None:
        self._lib = lib = lib or libcrypto()
        cursor = ctypes.c_char_p(bytes(der))
        pkey = lib.d2i_PrivateKey(_EVP_PKEY_RSA, None, ctypes.byref(cursor), len(der))
        if not pkey:
            raise lib.error("d2i_PrivateKey")
        weakref.finalize(self, lib.EVP_PKEY_free, pkey)
        self._pkey: int = pkey
        if lib.EVP_PKEY_get_base_id(pkey) != _EVP_PKEY_RSA:
            raise OpenSSLError("d2i_PrivateKey returned a key that is not RSA")
        self.modulus_len: int = lib.EVP_PKEY_get_size(pkey)
        self._local = threading.local()

    def __repr__(self) -> str:  # never show key material
        return f"RawRSAPrivateKey(bytes={self.modulus_len}, library={self._lib.name!r})"

    def _context(self) -> _Context:
        ctx: _Context | None = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = _Context(self._lib, self._pkey)
            self._local.ctx = ctx
        return ctx

    def private_operation(self, c: bytes) -> bytes:
        """``I2OSP(c^d mod n, modulus_len)`` for ``c`` of exactly ``modulus_len`` bytes.

        RSADP (RFC 8017 §5.1.2), which is the same computation as RSASP1 (§5.2.1).
        OpenSSL blinds it and runs it in constant time; it checks the CRT result itself
        and recomputes without CRT when that check fails.

        Raises
        ------
        ValueError
            ``c`` is not ``modulus_len`` bytes.
        OpenSSLError
            OpenSSL refused, e.g. ``c >= n`` ("data too large for modulus").
        """
        k = self.modulus_len
        if len(c) != k:
            raise ValueError(f"input must be {k} bytes, got {len(c)}")
        out = ctypes.create_string_buffer(k)
        out_len = ctypes.c_size_t(k)
        if self._lib.EVP_PKEY_decrypt(self._context().ptr, out, ctypes.byref(out_len), bytes(c), k) != 1:
            raise self._lib.error("EVP_PKEY_decrypt (RSA_NO_PADDING)")
        if out_len.value != k:
            raise OpenSSLError(f"EVP_PKEY_decrypt returned {out_len.value} bytes, expected {k}")
        return out.raw
