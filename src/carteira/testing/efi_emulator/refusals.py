"""Efí's refusals: the error codes of reference §6-§7 and the exact body shape they travel in."""

from __future__ import annotations

from typing import Any, Literal

Kind = Literal["validation", "business", "auth", "not_found", "rate_limit", "internal"]

# Slugs for the `error` field. Reference §6 saw only four (validation_error, property_does_not_exists,
# update_parcels, invalid_data); the rest are ours, so clients must classify by `code`, as Efí's docs advise.
_SLUGS = {
    3500010: "property_does_not_exists",
    3500023: "required_property",
    3500034: "validation_error",
    3500101: "update_parcels",
    3500049: "rate_limit",
    3500055: "rate_limit",
}


class EfiRefusal(Exception):
    """A request Efí would refuse: `code`, `error` slug and `description` (a {property, message} object or text)."""

    def __init__(self, code: int, description: str | dict[str, str], *, kind: Kind, error: str | None = None) -> None:
        super().__init__(code, description)
        self.code = code
        self.error = error or _SLUGS.get(code, "invalid_data")
        self.description = description
        self.kind: Kind = kind

    def body(self) -> dict[str, Any]:
        """The JSON body Efí sends with this refusal (reference §6)."""
        if self.kind == "auth":
            return {"error": self.error, "error_description": self.description}
        return {"code": self.code, "error": self.error, "error_description": self.description}


def invalid(pointer: str, message: str) -> EfiRefusal:
    """3500034: a value broke the schema at the JSON pointer `pointer`."""
    return EfiRefusal(3500034, {"property": pointer, "message": message}, kind="validation")


def unknown_property(pointer: str) -> EfiRefusal:
    """3500010: the body carries a property the schema does not know."""
    description = {"property": pointer, "message": "A propriedade informada não existe."}
    return EfiRefusal(3500010, description, kind="validation")


def missing(pointer: str) -> EfiRefusal:
    """3500023: a required property is absent (the code Efí documents for parcel and resend bodies)."""
    description = {"property": pointer, "message": "Propriedade obrigatória não informada."}
    return EfiRefusal(3500023, description, kind="validation")


def unknown_id(what: str, value: object) -> EfiRefusal:
    """3500010 for an id that names nothing (reference §6: "unknown property, or unknown id")."""
    return EfiRefusal(3500010, {"property": what, "message": f"O identificador {value} não existe."}, kind="not_found")


def rule(code: int, message: str, *, error: str | None = None) -> EfiRefusal:
    """A business rule of reference §7 refused the request; Efí describes these with plain text."""
    return EfiRefusal(code, message, kind="business", error=error)
