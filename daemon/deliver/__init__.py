"""Alert delivery to webhooks: at-least-once, signed, retried for three days, never silently dropped.

- ``outbox.deliver_due``         the scheduler's job; ``outbox.send_test`` backs `newswatch webhook test`
- ``receiver.make_receiver``     backs `newswatch listen` (and the tests' receiver)
- ``payload``, ``formats``, ``signing``, ``backoff``, ``client``   what one POST is made of

The outbox itself lives in the database (``store.alerts``). Import the submodule you need; nothing is
re-exported here, so that `newswatch listen` does not load httpx to print what it receives.
"""
