"""Scale simulators that speak the real protocol bytes over a pseudo-terminal."""
