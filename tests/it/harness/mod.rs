//! Shared test harness: real DNS servers on 127.0.0.1 and a builder for CLI runs.
