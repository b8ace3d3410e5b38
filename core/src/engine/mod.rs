//! The engine (registry and lifecycle): see issue 2.
