"""What the clinic buys to inject: product presets today; lots received, quarantine and picking
into injectates later. Sits between recordkeeping and treatments: treatments may import it."""
