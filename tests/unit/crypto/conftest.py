"""Shared fixtures of the crypto tests: the RFC vectors and a few keys made once per session."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crypto.blindrsa import SigningKey

from .vectors import load_rfc9578


@pytest.fixture(scope="session")
def rfc9578():
    return load_rfc9578()


@pytest.fixture(scope="session")
def rfc9578_key(rfc9578):
    return serialization.load_pem_private_key(rfc9578["skS"], password=None)


@pytest.fixture(scope="session")
def key2048():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signer2048(key2048):
    return SigningKey(key2048)
