"""How every Kafka client of Firestorm connects: plain, TLS, or SASL (SCRAM) over TLS.

One place turns the settings into client options, for kafka-python (produce,
ack, topic admin) and for Faust/aiokafka (the worker), so a secure cluster is
configured once, with the same names everywhere.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from streams.errors import ConfigError, FirestormError
from streams.settings import Settings

__all__ = ["check", "faust_credentials", "kafka_python_options", "ssl_context",
           "unreachable"]


def check(settings: Settings) -> None:
    """Raise ConfigError if the settings cannot make a Kafka client (names the fix)."""
    protocol = settings.kafka_security_protocol
    if protocol.startswith("SASL_") and not (settings.kafka_sasl_username
                                             and settings.kafka_sasl_password):
        raise ConfigError(f"{settings.where('kafka_security_protocol')}={protocol} needs"
                          " FIRESTORM_KAFKA_SASL_USERNAME and FIRESTORM_KAFKA_SASL_PASSWORD")
    cafile = settings.kafka_ssl_cafile
    if protocol.endswith("SSL") and cafile and not Path(cafile).is_file():
        raise ConfigError(f"{settings.where('kafka_ssl_cafile')}: no file {cafile!r}: name"
                          " the PEM file of the CA that signed the brokers' certificates")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context for SSL and SASL_SSL (the CA file, else the system's)."""
    check(settings)
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    try:
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    except ssl.SSLError as exc:
        raise ConfigError(f"{settings.where('kafka_ssl_cafile')}: not a PEM CA certificate"
                          f" ({exc.reason})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's clients (producer, consumer, admin)."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap.split(","),
                               "security_protocol": settings.kafka_security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL_"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    return options


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for the Faust app (None for PLAINTEXT)."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username, password=settings.kafka_sasl_password,
        ssl_context=context, mechanism=settings.kafka_sasl_mechanism)


def unreachable(settings: Settings, exc: Exception, doing: str = "reach") -> FirestormError:
    """The error to raise when a Kafka client cannot connect: what to check, in order."""
    hint = "is the broker up? try: deploy/local/stack.sh start"
    if settings.kafka_security_protocol != "PLAINTEXT":
        hint += (f"; with {settings.kafka_security_protocol}, also check the port is the"
                 " secure listener's, FIRESTORM_KAFKA_SSL_CAFILE"
                 + (", FIRESTORM_KAFKA_SASL_USERNAME and FIRESTORM_KAFKA_SASL_PASSWORD"
                    if settings.kafka_security_protocol.startswith("SASL") else ""))
    return FirestormError(f"cannot {doing} Kafka at {settings.kafka_bootstrap}"
                          f" ({type(exc).__name__}: {exc}); {hint}")
