"""What Ruggengraat ships for the systems that integrate with it: `ruggengraat.testing`, the integrator's test kit."""
