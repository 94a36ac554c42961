//! Renderers: pure functions of the validated configuration. They never touch the network.
