"""Secret values: encrypted at rest with Fernet, and masked in every log line.

The key comes from SECRETS_KEY (several keys, comma-separated, rotate: the
first encrypts, all decrypt). Slipway refuses to start without one rather than
ever storing a secret in plain text; `make run` creates one for the embedded
default in the data directory.
"""

import base64
import re
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MIN_SECRET_LENGTH = 6
MASK = "***"


class SecretsKeyError(RuntimeError):
    """SECRETS_KEY is missing or malformed; the message says how to fix it."""


def load_key(value: str | None) -> MultiFernet:
    if not value or not value.strip():
        raise SecretsKeyError(
            "SECRETS_KEY is not set, and Slipway will not store secrets in plain text. "
            "Create a key with `.venv/bin/python -m app.secrets > var/secrets.key` (`make run` "
            "does this for the embedded default) or set SECRETS_KEY to the output."
        )
    try:
        return MultiFernet([Fernet(part.strip()) for part in value.split(",") if part.strip()])
    except (ValueError, TypeError) as exc:
        raise SecretsKeyError(
            "SECRETS_KEY is not a valid key: it must be 32 url-safe base64-encoded bytes "
            "(as `python -m app.secrets` prints)."
        ) from exc


def generate_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(fernet: MultiFernet, plain: str) -> str:
    return fernet.encrypt(plain.encode()).decode()


def decrypt(fernet: MultiFernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsKeyError(
            "A stored secret cannot be decrypted with SECRETS_KEY: the key changed. Put the "
            "old key back (keys can be listed comma-separated, the new one first)."
        ) from exc


def secret_problem(value: str) -> str | None:
    """Why a value cannot be kept as a secret, or None."""
    if len(value) < MIN_SECRET_LENGTH:
        return (
            f"A secret needs at least {MIN_SECRET_LENGTH} characters: shorter values appear "
            "in ordinary output too often to be masked reliably. Store it as a plain variable."
        )
    return None


def encoded_forms(value: str) -> set[str]:
    """The secret as it may appear in output: plain, base64 (three alignments), URL-encoded."""
    raw = value.encode()
    forms = {value, quote(value, safe=""), quote_plus(value)}
    for offset in range(3):
        # Inside a longer base64 string the value's encoding depends on where it
        # starts; the characters made only of its own bits are the same each time.
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        first = -(-8 * offset // 6)  # the first character wholly inside the value
        last = 8 * (offset + len(raw)) // 6
        forms.add(encoded[first:last])
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Masker:
    """Replace every known secret, in any of its forms, with ***."""

    def __init__(self, secrets: list[str]):
        forms: set[str] = set()
        for secret in secrets:
            for line in secret.splitlines() or [secret]:  # multi-line secrets mask per line
                if len(line) >= MIN_SECRET_LENGTH:
                    forms |= encoded_forms(line)
        # Longest first, so a value containing another is masked whole.
        ordered = sorted(forms, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        return self.pattern.sub(MASK, text) if self.pattern else text


if __name__ == "__main__":
    print(generate_key())
