"""A private key and its self-signed certificate, as `openssl req -x509 -newkey rsa:2048` makes
them for a connected app's "Use digital signatures" (docs/salesforce-auth.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: bytes  # PKCS#8, unencrypted: what closebot's SALESFORCE_JWT_KEY_FILE holds
    certificate_pem: bytes  # what is uploaded to the connected app

    def write(self, directory: Path, name: str = "server") -> tuple[Path, Path]:
        """`<name>.key` (mode 600) and `<name>.crt` in `directory`."""
        key, cert = directory / f"{name}.key", directory / f"{name}.crt"
        key.write_bytes(self.private_key_pem)
        key.chmod(0o600)
        cert.write_bytes(self.certificate_pem)
        return key, cert


def self_signed(common_name: str = "closebot integration", days: int = 365) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
    )
