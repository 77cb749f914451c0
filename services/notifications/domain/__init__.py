"""Pure rules of the notifications service: no I/O, no clock reads, no asyncpg, httpx or fastapi.

- `routing`, `holding`: which consumed events go out at once, and which wait (for parties, order, cause).
- `filters`, `fanout`: which subscriptions want an event, and which verwijzers get an escalation.
- `ordering`: in which order a subscriber's lane sends its pending deliveries.
- `outcome`, `retry_policy`, `breaker`: what an attempt means: the delivery's next attempt (with jitter
  from the random source the policy is given), dead letters, the endpoint's circuit breaker.
- `messages`, `endpoints`: the signed CloudEvent on the wire; which endpoint addresses are refused.
- `subscriptions`: what a subscriber may do with its subscription in its state.
"""
