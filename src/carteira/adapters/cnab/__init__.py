"""CNAB 240 and CNAB 400 bank return files (SPEC B1, B2): layouts as data, and a fast, strict reader.

``parse_return(data)`` reads a whole file and detects its layout from the header; ``iter_records(stream)``
reads one in bounded memory; :class:`Layout` describes a layout (``from_dict``, ``from_json``,
``from_toml``, ``to_dict``); :data:`LAYOUTS` holds the built-in ones by id. Malformed input raises
:class:`~carteira.errors.InvalidInput` naming the line, field, raw slice and reason.
"""

from carteira.adapters.cnab.builtin import LAYOUTS
from carteira.adapters.cnab.layout import (
    DateFormat,
    DerivedField,
    Field,
    FieldType,
    Layout,
    SignFlag,
    Slice,
    SumCheck,
    TaxIdKind,
    TrailerCheck,
)
from carteira.adapters.cnab.reader import CnabParser, RecordStream, iter_records, parse_return
from carteira.ports.return_files import MovementCategory, ReturnFile, ReturnRecord

__all__ = [
    "LAYOUTS",
    "CnabParser",
    "DateFormat",
    "DerivedField",
    "Field",
    "FieldType",
    "Layout",
    "MovementCategory",
    "RecordStream",
    "ReturnFile",
    "ReturnRecord",
    "SignFlag",
    "Slice",
    "SumCheck",
    "TaxIdKind",
    "TrailerCheck",
    "iter_records",
    "parse_return",
]
