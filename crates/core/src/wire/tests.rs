//! Tests of the wire types: the exact JSON of every message, the error body, the docs.
