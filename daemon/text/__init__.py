"""Vietnamese text handling: normalization, folding, decoding, dates and document references.

Pure functions only: nothing here touches files, the network or the database.
"""

from daemon.text.normalize import (
    Canonical,
    CanonicalBody,
    content_hash,
    fold,
    fold_canonical,
    fold_with_map,
    normalize,
    normalize_body,
    squash,
)

__all__ = [
    "Canonical",
    "CanonicalBody",
    "content_hash",
    "fold",
    "fold_canonical",
    "fold_with_map",
    "normalize",
    "normalize_body",
    "squash",
]
