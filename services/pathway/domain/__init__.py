"""Pure domain of the pathway service: rules and values, no I/O, no clock reads."""
