//! isobench
