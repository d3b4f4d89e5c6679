//! The one cache interface: in-process (moka) by default, Redis when configured.
