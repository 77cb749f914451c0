"""Pure rules of the notifications service: no I/O, no clock reads, no asyncpg, httpx or fastapi."""
